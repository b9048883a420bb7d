// Shared pieces of the audit tests: events in several streams, tampering as the database owner
// (triggers disabled first, as an attacker with owner rights would), and a test authenticator.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../src/platform/db/database.js';
import type { DB } from '../../src/platform/db/schema.js';
import type { Actor, Authenticator } from '../../src/platform/http/context.js';
import { appendAuditEvents, derivedKeyring, type AuditKeyring } from '../../src/modules/audit/index.js';
import type { AuditEventInput } from '../../src/modules/audit/index.js';

export function testKeyring(): AuditKeyring {
  return derivedKeyring(randomBytes(32));
}

export function sampleEvent(establishmentId: string | null, i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    establishmentId,
    actor: { kind: 'system', name: 'test' },
    action: i % 2 === 0 ? 'patient.read' : 'agenda.list',
    resourceKind: 'patient',
    resourceIds: [],
    patientIds: [],
    categories: ['identity'],
    outcome: 'allowed',
    ip: '192.0.2.1',
    ...extra,
  };
}

/** Appends n events to one stream, in transactions of `perTx`. Returns the ids in order. */
export async function appendMany(db: Database, establishmentId: string | null, n: number, perTx = 10): Promise<string[]> {
  const ids: string[] = [];
  for (let done = 0; done < n; done += perTx) {
    const batch = Array.from({ length: Math.min(perTx, n - done) }, (_, k) => sampleEvent(establishmentId, done + k));
    const run = (fn: (tx: Parameters<Parameters<Database['withPlatform']>[0]>[0]) => Promise<string[]>) =>
      establishmentId === null ? db.withPlatform(fn) : db.withTenant(establishmentId, fn);
    ids.push(...(await run((tx) => appendAuditEvents(tx, batch))));
  }
  return ids;
}

export class Rollback extends Error {}

/**
 * Runs fn in an owner transaction with the audit triggers disabled, then rolls everything back,
 * so every tamper case starts from the same intact log.
 */
export async function withTampering<T>(db: Database, fn: (tx: Kysely<DB>) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await db.owner.transaction().execute(async (tx) => {
      for (const t of ['audit_events', 'audit_chain', 'audit_checkpoints', 'audit_signing_keys']) {
        await sql`alter table ${sql.table(t)} disable trigger user`.execute(tx);
      }
      result = await fn(tx);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return result as T;
}

/** A test-only authenticator: the actor is taken from a map keyed by the x-test-actor header. */
export function testAuthenticator(actors: Map<string, Actor>): Authenticator {
  return async (request: FastifyRequest) => {
    const key = request.headers['x-test-actor'];
    const actor = typeof key === 'string' ? actors.get(key) : undefined;
    if (actor) request.actor = actor;
  };
}

export function patientActor(userId: string): Actor {
  return { kind: 'user', userId, sessionId: '00000000-0000-7000-8000-000000000001', memberships: [], secondFactorAt: null };
}

/** Two establishments inserted directly (the audit tests need nothing else of the demo data). */
export async function insertEstablishments(db: Database, n = 2): Promise<string[]> {
  const { v7 } = await import('uuid');
  const ids = Array.from({ length: n }, () => v7());
  await db.owner
    .insertInto('establishments')
    .values(ids.map((id, i) => ({ id, name: `Clinique ${i + 1}`, address_line: '1 rue de la Paix', city: 'Lyon', postal_code: '69001' })))
    .execute();
  return ids;
}

/** Recomputes a stream's stored chain hashes from the events, as an attacker hiding an edit would. */
export async function rehashChain(tx: Kysely<DB>, stream: string): Promise<void> {
  const { createAuditStore } = await import('../../src/modules/audit/store.js');
  const { chainHash, GENESIS_HASH } = await import('../../src/modules/audit/canonical.js');
  const links = await createAuditStore().chainPage(tx, stream, 0n, 1_000_000n);
  let prev = GENESIS_HASH;
  for (const link of links) {
    const hash = chainHash(prev, link.seq, link.event!);
    await sql`update audit_chain set hash = ${hash} where stream = ${stream} and seq = ${link.seq.toString()}`.execute(tx);
    prev = hash;
  }
}
