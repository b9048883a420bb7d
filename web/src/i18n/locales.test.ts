import { describe, expect, it } from 'vitest';
import fr from './locales/fr.json';
import en from './locales/en.json';

function keys(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null) return [prefix];
  return Object.entries(tree).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function placeholders(tree: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (node: unknown, prefix: string) => {
    if (typeof node === 'string') out[prefix] = [...node.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] ?? '').sort();
    else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(tree, '');
  return out;
}

describe('locale files', () => {
  it('French and English have the same keys', () => {
    expect(keys(en).sort()).toEqual(keys(fr).sort());
  });

  it('each translation uses the same placeholders as the French one', () => {
    expect(placeholders(en)).toEqual(placeholders(fr));
  });

  it('no string is left empty', () => {
    const empty: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node === 'string') {
        if (node.trim() === '') empty.push(path);
      } else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) walk(v, `${path}/${k}`);
    };
    walk(fr, 'fr');
    walk(en, 'en');
    expect(empty).toEqual([]);
  });
});
