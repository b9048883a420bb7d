// The security officers' audit search on PostgreSQL, in process (no HTTP): one establishment
// stream of BENCH_EVENTS events (200,000 by default) over its staff and patient files, all sealed;
// then pages of 50 by actor and by patient file (first page and the next one through the cursor),
// each including the officer check, the integrity status of every event (rehash against its link,
// checkpoint signature) and the search's own audit append. One caller: latency p50 and p99.
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { seedDemo } from '../src/seed/demo.js';
import { createEnvKeyProvider, createVault } from '../src/modules/vault/index.js';
import { appendAuditEvents, derivedKeyring, sealPending, type AuditEventInput } from '../src/modules/audit/index.js';
import { createAuditSearchService } from '../src/modules/audit/search.js';
import { createAuditStore } from '../src/modules/audit/store.js';
import { isSecurityOfficer } from '../src/modules/guard/index.js';
import { accountDisplayNames } from '../src/modules/identity/account-data.js';
import type { Actor } from '../src/platform/http/context.js';
import { createBenchDatabase, report } from './lib.js';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 200_000);
const RUNS = 100;

const bench = await createBenchDatabase('hygie_bench_audit_search');
const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
const db = await openDatabase(config, { databaseUrl: bench.url, poolSize: 4 });
try {
  await migrateToLatest(db.owner, { appRole: config.dbAppRole });
  const vault = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });
  const { data } = await seedDemo(db, undefined, vault);
  const A = data.establishments[0]!.id;
  const staff = data.staff.filter((s) => s.memberships.some((m) => m.establishmentId === A));
  const files = data.patientFiles.filter((f) => f.establishmentId === A).map((f) => f.id);
  const actor = (s: (typeof staff)[number]): Actor => ({
    kind: 'user',
    userId: s.userId,
    sessionId: '00000000-0000-7000-8000-000000000000',
    memberships: s.memberships.map((m) => ({ establishmentId: m.establishmentId, role: m.role })),
    secondFactorAt: null,
  });
  for (let done = 0; done < EVENTS; done += 2000) {
    const batch: AuditEventInput[] = Array.from({ length: Math.min(2000, EVENTS - done) }, (_, k) => {
      const i = done + k;
      const s = staff[i % staff.length]!;
      return { establishmentId: A, actor: actor(s), actorRole: s.memberships.find((m) => m.establishmentId === A)!.role, action: 'patient.read', resourceKind: 'patient', patientIds: [files[(i * 7) % files.length]!], categories: ['identity'], outcome: 'allowed' };
    });
    await db.withTenant(A, (tx) => appendAuditEvents(tx, batch));
  }
  const keyring = derivedKeyring(randomBytes(32));
  await sealPending(db, keyring);
  // As autovacuum would have by then: without statistics the planner scans the whole stream.
  await sql`analyze audit_events`.execute(db.owner);
  const officer = actor(staff.find((s) => s.memberships.some((m) => m.establishmentId === A && m.role === 'security_officer'))!);
  const service = createAuditSearchService({ db, store: createAuditStore(), actorNames: (tx, ids) => accountDisplayNames(tx, vault, ids), isSecurityOfficer, keyring });
  const practitioner = staff.find((s) => s.memberships.some((m) => m.establishmentId === A && m.role === 'practitioner'))!.userId;

  const measure = async (label: string, query: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await query(i);
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await query(i);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const load = Math.round(loadavg()[0]! * 10) / 10;
    report(`audit_search.${label}.p50`, ms[Math.floor(RUNS / 2)]!, 'ms', { events: EVENTS, limit: 50, loadAverage: load });
    report(`audit_search.${label}.p99`, ms[Math.floor(RUNS * 0.99)]!, 'ms', { events: EVENTS, limit: 50, loadAverage: load });
  };
  await measure('by_actor', () => service.search(officer, A, { actorUserId: practitioner, limit: 50 }));
  await measure('by_patient', (i) => service.search(officer, A, { patientId: files[i % files.length]!, limit: 50 }));
  const first = await service.search(officer, A, { actorUserId: practitioner, limit: 50 });
  await measure('by_actor_next_page', () => service.search(officer, A, { actorUserId: practitioner, limit: 50, cursor: first.nextCursor! }));
} finally {
  await db.close();
  await bench.drop();
}
