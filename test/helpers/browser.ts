// Headless Debian Chromium driven by playwright-core (Playwright's own browser download does not
// work on these machines). Browser tests skip with a clear message when Chromium is missing.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { readTestSettings } from '../../src/config.js';

export const chromiumPath = readTestSettings().chromiumPath ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);
if (!hasChromium) console.warn(`[browser tests skipped] no Chromium at ${chromiumPath}: apt-get install chromium, or set CHROMIUM_PATH`);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}
