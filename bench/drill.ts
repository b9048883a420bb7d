// The exfiltration drill. On a scaled data set (drill-data.ts), stolen staff sessions (password and
// second factor in the attacker's hands: every step-up asked is passed), a leaked API key and a
// patient account attack through the real gate and guard, while a normal busy day runs for each
// role. A simulated clock runs a working day in seconds. One JSON line per scenario:
// patients exposed before containment, step-ups, containments.
//
//   npx tsx bench/drill.ts            (embedded PGlite, in memory)
//   DATABASE_URL=postgres://… npx tsx bench/drill.ts   (a fresh PostgreSQL database)
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database, type Tx } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { createAccessModule, type AccessGate, type RelationshipSource } from '../src/modules/access/index.js';
import { checkAgendaRange, createGuardModule, DEFAULT_THRESHOLDS, type ExplanationSource, type GuardModule } from '../src/modules/guard/index.js';
import type { Actor } from '../src/platform/http/context.js';
import type { DataCategory } from '../src/modules/audit/index.js';
import { DomainError } from '../src/platform/http/errors.js';
import { createBenchDatabase } from './lib.js';
import { generateDrillData, SURNAMES, type DrillData } from './drill-data.js';
import { randomBytes } from 'node:crypto';
import { searchPatientIds } from '../src/modules/records/index.js';
import { createEnvKeyProvider, createVault } from '../src/modules/vault/index.js';

const MIN = 60_000;
const DAY = 86_400_000;

class Clock {
  t: number;
  constructor(start: Date) {
    this.t = start.getTime();
  }
  now = (): Date => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

type Status = 'ok' | 'step_up' | 'contained' | 'not_found' | 'refused';
interface Result {
  status: Status;
  patients: string[];
}

function outcome(error: unknown): Status {
  if (error instanceof DomainError) {
    if (error.code === 'step_up_required') return 'step_up';
    if (error.code === 'account_contained') return 'contained';
    if (error.code === 'not_found') return 'not_found';
  }
  throw error;
}

/** The operations the API offers, through the gate, as scheduling and records will call them. */
// Patient files are encrypted under an ephemeral root key: the drill's database is dropped after it.
const vault = createVault({ provider: createEnvKeyProvider([randomBytes(32)]) });

function operations(gate: AccessGate, guard: GuardModule, eid: string, now: () => Date) {
  // The gate counts misses itself (refusals answered not_found, searches that found nobody).
  const miss = (): Result => ({ status: 'not_found', patients: [] });
  async function access(actor: Actor, ids: string[], categories: DataCategory[], action: 'read' | 'write', resourceKind: string, _d: DrillData): Promise<Result> {
    try {
      const r = await gate.access({ actor, establishmentId: eid, action, resourceKind, categories, patientIds: ids }, async () => undefined);
      return { status: 'ok', patients: r.allowed };
    } catch (error) {
      const s = outcome(error);
      return s === 'not_found' ? miss() : { status: s, patients: [] };
    }
  }
  return {
    /** GET /agenda?practitionerId=&from=&to= (a page of at most 50 rows). */
    async agenda(actor: Actor, practitionerUserId: string | null, from: Date, to: Date, offset = 0): Promise<Result> {
      // Scheduling's bound on the range; a stolen staff session types a reason (audited, shown to patients).
      const range = checkAgendaRange({ from, to, now: now(), actorKind: actor.kind, reason: 'consultation historique' }, DEFAULT_THRESHOLDS.agendaWindow);
      if (range !== 'ok') return { status: 'refused', patients: [] };
      try {
        const rows = await gate.list(
          { actor, establishmentId: eid, action: 'read', resourceKind: 'agenda', categories: ['administrative', 'identity'] },
          async (tx) =>
            (
              await sql<{ patient_id: string }>`
                select patient_id from drill_appointments
                where start_at >= ${from} and start_at < ${to} ${practitionerUserId ? sql`and practitioner_user_id = ${practitionerUserId}` : sql``}
                order by start_at, id limit 50 offset ${offset}`.execute(tx)
            ).rows,
          (r) => r.patient_id,
        );
        return { status: 'ok', patients: [...new Set(rows.map((r) => r.patient_id))] };
      } catch (error) {
        return { status: outcome(error), patients: [] };
      }
    },
    /** GET /patients?lastName=&birthDate= (exact; at most 20 minimal results). */
    async search(actor: Actor, lastName: string, birthDate: string, _d: DrillData): Promise<Result> {
      try {
        const rows = await gate.list(
          { actor, establishmentId: eid, action: 'read', resourceKind: 'patient_search', categories: ['identity'] },
          async (tx) => (await searchPatientIds(tx, vault, eid, { lastName, birthDate }, 20)).map((id) => ({ id })),
          (r) => r.id,
        );
        if (rows.length === 0) return miss();
        return { status: 'ok', patients: rows.map((r) => r.id) };
      } catch (error) {
        return { status: outcome(error), patients: [] };
      }
    },
    openFile: (actor: Actor, id: string, d: DrillData) => access(actor, [id], ['identity', 'contact', 'insurance'], 'read', 'patient', d),
    clinical: (actor: Actor, id: string, d: DrillData) => access(actor, [id], ['clinical'], 'read', 'clinical_entry', d),
    writeNote: (actor: Actor, id: string, d: DrillData) => access(actor, [id], ['clinical'], 'write', 'clinical_entry', d),
    book: (actor: Actor, id: string, d: DrillData) => access(actor, [id], ['administrative'], 'write', 'appointment', d),
  };
}

/** A session: counts requests, step-ups (passed when the holder has the second factor), exposure. */
class Session {
  stepUps = 0;
  contained = false;
  requests = 0;
  exposed = new Set<string>();
  constructor(
    public actor: Actor,
    private clock: Clock,
    private canStepUp: boolean,
  ) {}
  async run(op: (actor: Actor) => Promise<Result>): Promise<Result> {
    if (this.contained) return { status: 'contained', patients: [] };
    this.requests += 1;
    let r = await op(this.actor);
    if (r.status === 'step_up') {
      this.stepUps += 1;
      if (this.canStepUp && this.actor.kind === 'user') {
        this.actor = { ...this.actor, secondFactorAt: this.clock.now() };
        this.requests += 1;
        r = await op(this.actor);
      }
    }
    if (r.status === 'contained') this.contained = true;
    for (const p of r.patients) this.exposed.add(p);
    return r;
  }
}

const user = (userId: string): Actor => ({ kind: 'user', userId, sessionId: '00000000-0000-7000-8000-00000000d000', memberships: [], secondFactorAt: null });

async function main() {
  const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-drill-dir' });
  const usePostgres = process.env['DATABASE_URL'] !== undefined;
  const bench = usePostgres ? await createBenchDatabase('hygie_drill') : undefined;
  const db: Database = await openDatabase(config, bench ? { databaseUrl: bench.url } : { databaseUrl: undefined, pgliteDataDir: 'memory://' });
  try {
    await migrateToLatest(db.owner, { appRole: config.dbAppRole });
    const started = Date.now();
    const today = new Date('2026-11-23T00:00:00Z'); // a Monday
    const d = await generateDrillData(db, vault, config.dbAppRole, today, { patients: Number(process.env['DRILL_PATIENTS'] ?? 50_000) });
    console.log(JSON.stringify({ bench: 'drill', figure: 'dataset', patients: Number(process.env['DRILL_PATIENTS'] ?? 50_000), staff: 200, appointments: Number((await sql<{ n: string }>`select count(*) as n from drill_appointments`.execute(db.owner)).rows[0]!.n), seconds: Math.round((Date.now() - started) / 100) / 10, database: db.kind }));
    const { runScenarios } = await import('./drill-scenarios.js');
    await runScenarios({ db, d, makeWorld, Session, Clock, operations, user });
  } finally {
    await db.close();
    await bench?.drop();
  }

  /** A gate + guard on a clock, with scheduling's evidence (relationships and near-window explanations). */
  function makeWorld(clock: Clock, dd: DrillData) {
    const relationship: RelationshipSource = async (tx, q) => {
      const { rows } = await sql<{ patient_id: string }>`
        select distinct patient_id from drill_appointments
        where practitioner_user_id = ${q.practitionerUserId} and patient_id = any(${q.patientIds}::uuid[])
          and start_at > ${new Date(clock.t - 365 * DAY)} and start_at < ${new Date(clock.t + 90 * DAY)}`.execute(tx);
      return new Set(rows.map((r) => r.patient_id));
    };
    const explanation: ExplanationSource = async (tx: Tx, q) => {
      if (q.actor.kind === 'system') return new Set();
      const byPractitioners =
        q.actor.kind === 'api_key'
          ? null
          : q.role === 'practitioner'
            ? [q.actor.userId]
            : q.role === 'secretary'
              ? (dd.assignments.get(q.actor.userId) ?? [])
              : [];
      if (byPractitioners !== null && byPractitioners.length === 0) return new Set();
      const { rows } = await sql<{ patient_id: string }>`
        select distinct patient_id from drill_appointments
        where patient_id = any(${q.patientIds}::uuid[]) and start_at >= ${q.from} and start_at <= ${q.to}
          ${byPractitioners ? sql`and practitioner_user_id = any(${byPractitioners}::uuid[])` : sql``}`.execute(tx);
      return new Set(rows.map((r) => r.patient_id));
    };
    const guard = createGuardModule({ db, now: clock.now, explanationSources: [explanation], revokeAllForActor: async () => undefined });
    const gate = createAccessModule({ db, meter: guard.meter, relationshipSources: [relationship], now: clock.now }).gate;
    return { gate, guard, ops: operations(gate, guard, dd.establishmentId, clock.now) };
  }
}

export type DrillKit = {
  db: Database;
  d: DrillData;
  makeWorld: (clock: Clock, d: DrillData) => { gate: AccessGate; guard: GuardModule; ops: ReturnType<typeof operations> };
  Session: typeof Session;
  Clock: typeof Clock;
  operations: typeof operations;
  user: typeof user;
};
export { SURNAMES, MIN, DAY };

if (process.argv[1]?.endsWith('drill.ts')) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
