// `hygie seed --scale`: the generator writes what it says, through the tenant walls, and the
// result is searchable with free slots left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { seedScale, type ScaleResult } from '../src/seed/scale.js';
import { buildSchedulingTestApp } from './helpers/scheduling-auth.js';

let t: TestDatabase;
let result: ScaleResult;
const progress: Array<[number, number]> = [];

beforeAll(async () => {
  t = await createTestDatabase();
  result = await seedScale(t.db, t.vault, { patients: 60, practitioners: 20, accounts: 10 }, (done, total) => progress.push([done, total]));
});
afterAll(async () => t?.drop());

describe('seed --scale', () => {
  it('creates the requested counts and reports progress up to 100 %', async () => {
    expect(result).toMatchObject({ establishments: 3, practitioners: 20, patients: 60 });
    expect(result.accountUserIds).toHaveLength(10);
    expect(result.appointments).toBeGreaterThan(0);
    const n = async (table: 'practitioners' | 'agendas' | 'appointments' | 'patients') => Number((await t.db.owner.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    expect(await n('agendas')).toBe(20);
    expect(await n('appointments')).toBe(result.appointments);
    expect(await n('patients')).toBe(60);
    const last = progress.at(-1)!;
    expect(last[0]).toBe(last[1]);
  });

  it('leaves planner statistics for what it loaded (whether or not autovacuum runs)', async () => {
    // reltuples is -1 for a table never analysed (PostgreSQL 14+, and PGlite).
    const { rows } = await sql<{ relname: string; reltuples: number }>`
      select relname, reltuples::float8 as reltuples from pg_class
      where relname in ('agendas', 'establishments', 'practitioners', 'appointments', 'patients') and relkind = 'r'`.execute(t.db.owner);
    expect(rows).toHaveLength(5);
    for (const r of rows) expect([r.relname, Number(r.reltuples) > 0]).toEqual([r.relname, true]);
  });

  it('is searchable, with free slots and teleconsultation filtering', async () => {
    const app = await buildSchedulingTestApp(t);
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/search/practitioners?near=Paris&limit=50' });
      const items = (res.json() as { items: Array<{ nextSlots: unknown[]; teleconsult: boolean }> }).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.some((i) => i.nextSlots.length > 0)).toBe(true);
      const tele = await app.inject({ method: 'GET', url: '/api/v1/search/practitioners?near=75&teleconsult=true&limit=50' });
      const teleItems = (tele.json() as { items: Array<{ teleconsult: boolean }> }).items;
      expect(teleItems.length).toBeGreaterThan(0);
      expect(teleItems.every((i) => i.teleconsult)).toBe(true);
    } finally {
      await app.close();
    }
  });
});
