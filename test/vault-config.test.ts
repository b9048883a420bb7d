// The vault's configuration: HYGIE_KEY_PROVIDER and HYGIE_MASTER_KEY, validated at start-up
// without ever echoing key material.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, '/srv');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('vault configuration', () => {
  it('defaults to the local key file, also with DATABASE_URL', () => {
    expect(loadConfig({}, '/srv')).toMatchObject({ keyProvider: 'local', masterKeys: undefined });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/hygie' }, '/srv')).toMatchObject({ keyProvider: 'local', masterKeys: undefined });
  });

  it('uses the env provider when HYGIE_MASTER_KEY is set, newest key first', () => {
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const c = loadConfig({ HYGIE_MASTER_KEY: `${k1.toString('base64')}, ${k2.toString('base64')}` }, '/srv');
    expect(c.keyProvider).toBe('env');
    expect(c.masterKeys!.keys.map((k) => k.toString('hex'))).toEqual([k1.toString('hex'), k2.toString('hex')]);
  });

  it('refuses malformed keys without printing them, and contradictory settings', () => {
    const short = randomBytes(16).toString('base64');
    const problems = problemsOf({ HYGIE_MASTER_KEY: `${randomBytes(32).toString('base64')},${short}` });
    expect(problems).toEqual(['HYGIE_MASTER_KEY key #2 is not the base64 of 32 bytes (make one with: openssl rand -base64 32)']);
    expect(problems.join()).not.toContain(short);
    expect(problemsOf({ HYGIE_MASTER_KEY: 'not base64 at all!' })).toHaveLength(1);
    expect(problemsOf({ HYGIE_KEY_PROVIDER: 'env' })).toEqual(['HYGIE_KEY_PROVIDER=env needs HYGIE_MASTER_KEY']);
    expect(problemsOf({ HYGIE_KEY_PROVIDER: 'local', HYGIE_MASTER_KEY: randomBytes(32).toString('base64') })).toHaveLength(1);
    expect(problemsOf({ HYGIE_KEY_PROVIDER: 'kms' })).toEqual(['HYGIE_KEY_PROVIDER must be local or env']);
  });

  it('never serialises or prints the master keys', () => {
    const key = randomBytes(32);
    const c = loadConfig({ HYGIE_MASTER_KEY: key.toString('base64') }, '/srv');
    const shown = `${JSON.stringify(c)} ${inspect(c, { depth: 10 })}`;
    for (const form of [key.toString('base64'), key.toString('hex')]) expect(shown).not.toContain(form);
  });
});
