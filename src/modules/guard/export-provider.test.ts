import { describe, expect, it } from 'vitest';
import { exportProviders, toCsv, type ExportProvider } from './export-provider.js';

describe('export files', () => {
  it('writes RFC 4180 CSV: quotes commas, quotes and line breaks, empty cells for null', () => {
    expect(toCsv(['a', 'b', 'c'], [['x, y', 'say "hi"', null], ['line\nbreak', 3, 'plain']])).toBe('a,b,c\r\n"x, y","say ""hi""",\r\n"line\nbreak",3,plain\r\n');
  });

  it('neutralises spreadsheet formulas typed into a field (CSV injection)', () => {
    const out = toCsv(['name'], [['=HYPERLINK("http://evil.example","x")'], ['+33 1 23'], ['-2+3'], ['@SUM(A1)'], ['Émile']]);
    expect(out.split('\r\n').slice(1, 6)).toEqual([`"'=HYPERLINK(""http://evil.example"",""x"")"`, "'+33 1 23", "'-2+3", "'@SUM(A1)", 'Émile']);
  });

  it('refuses two providers of one kind', () => {
    const p = { kind: 'appointments' } as ExportProvider;
    expect(() => exportProviders([p, p])).toThrow(/twice/);
  });
});
