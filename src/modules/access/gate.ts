// The gate: the one way to personal data. In a single tenant transaction it authorizes (policy),
// meters (guard) and records (audit) the access, then runs the caller's data function. If the
// audit append fails, the access fails; refusals are recorded and answered as "not found".
import { sql, type RawBuilder } from 'kysely';
import { PREPARED, type Database, type Tx } from '../../platform/db/database.js';
import type { StaffRole } from '../../platform/db/schema.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent, appendAuditEvents, auditInsert, type AuditEventInput, type DataCategory } from '../audit/index.js';
import type { AccessMeter } from '../guard/index.js';
import { decide, type AccessAction, type ActorContext, type Decision, type Subject } from './policy.js';
import type { AccessStore, CareRelationshipSql } from './store.js';

/**
 * Another module's evidence of care relationships (e.g. scheduling: an appointment within 12
 * months): either a query of its own, or, better, a SQL test the gate folds into its one query.
 */
export type RelationshipSource = ((tx: Tx, query: { practitionerUserId: string; patientIds: string[] }) => Promise<Set<string>>) | { sql: CareRelationshipSql };

export interface AccessRequest {
  actor: Actor;
  establishmentId: string;
  action: AccessAction;
  /** What is accessed, for the audit trail: 'patient', 'clinical_entry', 'agenda', … */
  resourceKind: string;
  categories: DataCategory[];
  /** The patients whose data the request touches. */
  patientIds: string[];
  /** Ids of the resources themselves (entries, appointments), for the audit trail. */
  resourceIds?: string[];
  purpose?: string;
  ip?: string | null;
  /** The audit action; defaults to `<resourceKind>.<action>`. */
  auditAction?: string;
  /** Patients whose genetic results being read name the acting practitioner (records knows). */
  namedOnGenetic?: ReadonlySet<string>;
  /** A two-person-approved bulk export being downloaded (the guard verifies it in its register). */
  exportId?: string;
}

export interface AccessResult<T> {
  value: T;
  allowed: string[];
  denied: string[];
}

type Verdict = 'allow' | 'step_up' | 'contain';

class VerdictError extends Error {
  constructor(readonly verdict: Verdict) {
    super(verdict);
  }
}

export interface AccessGate {
  /**
   * Authorizes the request's patients, then runs fn with the allowed ids. Throws not_found when
   * none is allowed (after recording the refusal), step_up_required or account_contained when
   * the guard says so.
   */
  access<T>(request: AccessRequest, fn: (tx: Tx, allowedPatientIds: string[]) => Promise<T>): Promise<AccessResult<T>>;
  /**
   * A read whose data is one SELECT: decided and metered as access() does, then the audit append
   * and the caller's select run as ONE statement (`with audit as (insert …) select …`), so the rows
   * cannot be read without their audit event, by construction, and the read costs one round trip
   * instead of two. `select` must be a plain SELECT (no WITH of its own) of fixed text for a given
   * shape: the whole statement runs prepared. `open` turns the rows into the value, still in the
   * transaction; the value leaves only once the transaction has committed.
   */
  read<R, T>(
    request: AccessRequest,
    select: (allowedPatientIds: string[]) => RawBuilder<R>,
    open: (tx: Tx, rows: R[], allowedPatientIds: string[]) => Promise<T>,
  ): Promise<AccessResult<T>>;
  /**
   * For lists whose patients are known only once queried (an agenda): fetch runs first, rows of
   * patients the actor may not see are dropped, the rest is metered and audited, all before the
   * rows leave this function.
   */
  /**
   * For creating a patient file: authorizes the actor to write these categories on a new file of
   * this establishment (as if it existed, with no care relationship), then runs fn, which creates
   * the file and returns its id; the write is metered and audited under that id. Refusals are
   * recorded and answered as forbidden (there is no object whose existence could leak).
   */
  create(request: Omit<AccessRequest, 'patientIds' | 'action'>, fn: (tx: Tx) => Promise<string>): Promise<string>;
  list<R>(
    request: Omit<AccessRequest, 'patientIds'>,
    fetch: (tx: Tx) => Promise<R[]>,
    patientOf: (row: R) => string | null,
    resourceIdOf?: (row: R) => string,
  ): Promise<R[]>;
}

export function createAccessGate(deps: {
  db: Database;
  store: AccessStore;
  meter: AccessMeter;
  relationshipSources?: RelationshipSource[];
}): AccessGate {
  const { db, store, meter } = deps;
  const sources = (deps.relationshipSources ?? []).filter((s) => typeof s === 'function');
  const sqlSources = (deps.relationshipSources ?? []).flatMap((s) => (typeof s === 'function' ? [] : [s.sql]));

  /** The policy's view of the actor, given the user's role read now (accessFacts or findRole). */
  function actorContext(actor: Actor, establishmentId: string, userRole: StaffRole | undefined): { ctx: ActorContext; role: string | null } {
    switch (actor.kind) {
      case 'system':
        return { ctx: { kind: 'system', name: actor.name }, role: null };
      case 'api_key':
        return actor.establishmentId === establishmentId
          ? { ctx: { kind: 'api_key', apiKeyId: actor.apiKeyId, scopes: actor.scopes }, role: null }
          : { ctx: { kind: 'outsider' }, role: null };
      case 'user':
        // The membership read now rather than the session's copy: a revoked role stops working on
        // the next request (ASVS 8.3.2).
        if (userRole) return { ctx: { kind: 'staff', userId: actor.userId, role: userRole }, role: userRole };
        return { ctx: { kind: 'patient', userId: actor.userId }, role: 'patient' };
    }
  }

  async function resolveActor(tx: Tx, actor: Actor, establishmentId: string): Promise<{ ctx: ActorContext; role: string | null }> {
    return actorContext(actor, establishmentId, actor.kind === 'user' ? await store.findRole(tx, actor.userId) : undefined);
  }

  /**
   * Who the actor is here and what holds for each requested patient, read in one query
   * (store.accessFacts: role, existence, own file, care relationship, break-the-glass), then the
   * policy's decisions. Relationship sources that are not SQL run after it, for the rest.
   */
  async function evaluate(tx: Tx, actor: Actor, request: Omit<AccessRequest, 'patientIds'>, patientIds: string[]) {
    const ids = [...new Set(patientIds)];
    const userId = actor.kind === 'user' ? actor.userId : null;
    // The session's copy of the role only chooses which facts to fetch with the role; the decision
    // uses the role read now, and a user who has become a practitioner since gets the rest read.
    const likelyPractitioner = actor.kind === 'user' && actor.memberships.some((m) => m.establishmentId === request.establishmentId && m.role === 'practitioner');
    let facts = await store.accessFacts(tx, userId, ids, sqlSources, { practitionerFacts: likelyPractitioner });
    if (!likelyPractitioner && facts.role === 'practitioner') facts = await store.accessFacts(tx, userId, ids, sqlSources);
    const { ctx, role } = actorContext(actor, request.establishmentId, facts.role);
    const existing = facts.patients;
    const own = new Set<string>();
    const care = new Set<string>();
    const breakGlass = new Map<string, string>();
    for (const [id, f] of existing) {
      if (ctx.kind === 'patient' && f.own) own.add(id);
      if (ctx.kind === 'staff' && ctx.role === 'practitioner') {
        if (f.care) care.add(id);
        else if (f.breakGlassReason !== null) breakGlass.set(id, f.breakGlassReason);
      }
    }
    if (ctx.kind === 'staff' && ctx.role === 'practitioner') {
      for (const source of sources) {
        const rest = [...existing.keys()].filter((id) => !care.has(id));
        if (rest.length === 0) break;
        for (const id of await source(tx, { practitionerUserId: ctx.userId, patientIds: rest })) {
          care.add(id);
          breakGlass.delete(id);
        }
      }
    }
    const subjects: Subject[] = ids.map((patientId) => ({
      patientId,
      exists: existing.has(patientId),
      isSelf: own.has(patientId),
      careRelationship: care.has(patientId),
      breakGlass: breakGlass.has(patientId),
      namedOnGenetic: request.namedOnGenetic?.has(patientId) ?? false,
    }));
    // Probing, for the guard's enumeration signal: ids this establishment does not hold (random,
    // or another establishment's), for a patient any file that is not their own, and for an admin
    // or a security officer any file at all: those roles read no patient data, so no workflow of
    // theirs names a patient's file (a stolen admin session walking ids would otherwise be refused
    // forever without a signal).
    const readsNothing = ctx.kind === 'staff' && (ctx.role === 'admin' || ctx.role === 'security_officer');
    const misses = ids.filter((id) => !existing.has(id) || (ctx.kind === 'patient' && !own.has(id)) || readsNothing);
    return { ctx, role, decisions: decide(ctx, request.action, request.categories, subjects), breakGlass, misses };
  }

  function auditBase(request: Omit<AccessRequest, 'patientIds'>, role: string | null) {
    return {
      establishmentId: request.establishmentId,
      actor: request.actor,
      actorRole: role,
      ip: request.ip ?? null,
      action: request.auditAction ?? `${request.resourceKind}.${request.action}`,
      resourceKind: request.resourceKind,
      resourceIds: request.resourceIds ?? [],
      categories: request.categories,
      purpose: request.purpose ?? null,
    };
  }

  /**
   * Meters the allowed exposure; returns the guard's verdict and, when it allows, the audit events
   * the caller must append in the same transaction (refusals of the guard are appended here).
   */
  async function meterExposure(
    tx: Tx,
    request: Omit<AccessRequest, 'patientIds'>,
    role: string | null,
    allowed: Decision[],
    breakGlass: Map<string, string>,
  ): Promise<{ verdict: Verdict; events: AuditEventInput[] }> {
    const patientIds = allowed.map((d) => d.patientId);
    if (patientIds.length === 0) return { verdict: 'allow', events: [] };
    const explained = allowed.filter((d) => d.basis === 'self' || d.basis === 'care_relationship' || d.basis === 'system' || d.basis === 'named_on_result' || d.basis === 'created');
    const viaBreakGlass = allowed.filter((d) => d.basis === 'break_glass').map((d) => d.patientId);
    let verdict: Verdict = 'allow';
    try {
      await meter.meter(tx, {
        actor: request.actor,
        role,
        establishmentId: request.establishmentId,
        action: request.action,
        resourceKind: request.resourceKind,
        categories: request.categories,
        patientIds,
        explainedPatientIds: explained.map((d) => d.patientId),
        breakGlassPatientIds: viaBreakGlass,
        ip: request.ip ?? null,
        ...(request.exportId ? { exportId: request.exportId } : {}),
      });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'step_up_required') verdict = 'step_up';
      else if (error instanceof DomainError && error.code === 'account_contained') verdict = 'contain';
      else throw error;
    }
    const base = auditBase(request, role);
    if (verdict !== 'allow') {
      await appendAuditEvent(tx, { ...base, patientIds, outcome: verdict === 'contain' ? 'contained' : 'denied' });
      return { verdict, events: [] };
    }
    const events: AuditEventInput[] = [];
    const ordinary = patientIds.filter((id) => !viaBreakGlass.includes(id));
    if (ordinary.length > 0) events.push({ ...base, patientIds: ordinary, outcome: 'allowed' });
    // Break-the-glass reads carry their written reason, which the patient will see.
    for (const id of viaBreakGlass) {
      events.push({ ...base, patientIds: [id], purpose: 'break_glass', reason: breakGlass.get(id) ?? null, outcome: 'allowed' });
    }
    return { verdict, events };
  }

  /** Meters the allowed exposure and records it; returns the guard's verdict. */
  async function meterAndRecord(
    tx: Tx,
    request: Omit<AccessRequest, 'patientIds'>,
    role: string | null,
    allowed: Decision[],
    breakGlass: Map<string, string>,
  ): Promise<Verdict> {
    const { verdict, events } = await meterExposure(tx, request, role, allowed, breakGlass);
    await appendAuditEvents(tx, events);
    return verdict;
  }

  /**
   * access() and read(): decides, records refusals, meters, then hands the allowed ids and the audit
   * events still to append to body, which must append them in this transaction.
   */
  async function authorized<T>(request: AccessRequest, body: (tx: Tx, allowedIds: string[], events: AuditEventInput[]) => Promise<T>): Promise<AccessResult<T>> {
    type Outcome = { kind: 'ok'; result: AccessResult<T> } | { kind: 'refused' } | { kind: 'verdict'; verdict: Verdict };
    const outcome: Outcome = await db.withTenant(request.establishmentId, async (tx) => {
      const evaluated = await evaluate(tx, request.actor, request, request.patientIds);
      const { role, decisions, breakGlass } = evaluated;
      const allowed = decisions.filter((d) => d.allowed);
      const denied = decisions.filter((d) => !d.allowed).map((d) => d.patientId);
      if (denied.length > 0) {
        await appendAuditEvent(tx, { ...auditBase(request, role), patientIds: denied, outcome: 'denied' });
      }
      const { misses } = evaluated;
      if (misses.length > 0 && meter.noteMiss) {
        const missVerdict = await meter.noteMiss(tx, { actor: request.actor, role, establishmentId: request.establishmentId, kind: 'not_found', count: misses.length, ip: request.ip ?? null });
        if (missVerdict !== 'allow') return { kind: 'verdict', verdict: missVerdict };
      }
      if (allowed.length === 0) return { kind: 'refused' };
      const { verdict, events } = await meterExposure(tx, request, role, allowed, breakGlass);
      if (verdict !== 'allow') return { kind: 'verdict', verdict };
      const allowedIds = allowed.map((d) => d.patientId);
      const value = await body(tx, allowedIds, events);
      return { kind: 'ok', result: { value, allowed: allowedIds, denied } };
    });
    // Refusals are committed (recorded) first, then answered.
    if (outcome.kind === 'refused') throw new DomainError('not_found', 'No such patient');
    if (outcome.kind === 'verdict') raiseVerdict(outcome.verdict);
    return outcome.result;
  }

  function raiseVerdict(verdict: Verdict): never {
    throw verdict === 'contain'
      ? new DomainError('account_contained', 'This account has been contained; a security officer must release it')
      : new DomainError('step_up_required', 'Confirm with your second factor to continue');
  }

  return {
    access(request, fn) {
      return authorized(request, async (tx, allowedIds, events) => {
        // Recorded before the caller's function runs, in its transaction.
        await appendAuditEvents(tx, events);
        return fn(tx, allowedIds);
      });
    },

    read<R, T>(request: AccessRequest, select: (allowedPatientIds: string[]) => RawBuilder<R>, open: (tx: Tx, rows: R[], allowedPatientIds: string[]) => Promise<T>) {
      return authorized(request, async (tx, allowedIds, events) => {
        const query = select(allowedIds);
        if (events.length === 0) return open(tx, (await query.execute(tx)).rows, allowedIds);
        // One statement: the audit rows are inserted (a data-modifying WITH always runs to
        // completion, referenced or not) in the same snapshot and statement as the rows are read.
        const audit = auditInsert(events);
        const { rows } = await sql<R>`${audit.prepared ? PREPARED : sql``}with hygie_audit as (${audit.statement}) ${query}`.execute(tx);
        return open(tx, rows, allowedIds);
      });
    },

    async create(request, fn) {
      type Outcome = { kind: 'ok'; id: string } | { kind: 'refused' } | { kind: 'verdict'; verdict: Verdict };
      const full = { ...request, action: 'write' as const, patientIds: [] };
      const outcome: Outcome = await db.withTenant(request.establishmentId, async (tx) => {
        const { ctx, role } = await resolveActor(tx, request.actor, request.establishmentId);
        const probe: Subject = { patientId: 'new', exists: true, isSelf: false, careRelationship: false, breakGlass: false, namedOnGenetic: false };
        const [decision] = decide(ctx, 'write', request.categories, [probe]);
        if (!decision?.allowed) {
          await appendAuditEvent(tx, { ...auditBase(full, role), outcome: 'denied' });
          return { kind: 'refused' } as Outcome;
        }
        const id = await fn(tx);
        // The file is what the actor just typed: explained, yet metered and audited like any write.
        const verdict = await meterAndRecord(tx, full, role, [{ ...decision, patientId: id, basis: 'created' }], new Map());
        // A refused write must not persist: throwing rolls the creation back (the refusal is
        // recorded in a transaction of its own below).
        if (verdict !== 'allow') throw new VerdictError(verdict);
        return { kind: 'ok', id } as Outcome;
      }).catch(async (error: unknown) => {
        if (!(error instanceof VerdictError)) throw error;
        await db.withTenant(request.establishmentId, async (tx) => {
          const { role } = await resolveActor(tx, request.actor, request.establishmentId);
          await appendAuditEvent(tx, { ...auditBase(full, role), outcome: error.verdict === 'contain' ? 'contained' : 'denied' });
        });
        return { kind: 'verdict', verdict: error.verdict } as Outcome;
      });
      if (outcome.kind === 'refused') throw new DomainError('forbidden', 'Not allowed to create a patient file here');
      if (outcome.kind === 'verdict') raiseVerdict(outcome.verdict);
      return outcome.id;
    },
    async list(request, fetch, patientOf, resourceIdOf) {
      type Outcome = { kind: 'ok'; rows: Awaited<ReturnType<typeof fetch>> } | { kind: 'verdict'; verdict: Verdict };
      const outcome: Outcome = await db.withTenant(request.establishmentId, async (tx) => {
        const rows = await fetch(tx);
        const ids = [...new Set(rows.map(patientOf).filter((id): id is string => id !== null))];
        const { role, decisions, breakGlass } = await evaluate(tx, request.actor, request, ids);
        const allowed = decisions.filter((d) => d.allowed);
        const allowedSet = new Set(allowed.map((d) => d.patientId));
        const visible = rows.filter((r) => patientOf(r) === null || allowedSet.has(patientOf(r)!));
        const recorded = resourceIdOf ? { ...request, resourceIds: visible.map(resourceIdOf) } : request;
        const verdict = await meterAndRecord(tx, recorded, role, allowed, breakGlass);
        if (verdict !== 'allow') return { kind: 'verdict', verdict };
        // A patient search that found nobody is a miss (searches that miss: harvesting identities).
        if (request.resourceKind === 'patient_search' && visible.length === 0) {
          const missed = (await meter.noteMiss?.(tx, { actor: request.actor, establishmentId: request.establishmentId, role, kind: 'search_miss', count: 1, ip: request.ip ?? null })) ?? 'allow';
          if (missed !== 'allow') return { kind: 'verdict', verdict: missed };
        }
        return { kind: 'ok', rows: visible };
      });
      if (outcome.kind === 'verdict') raiseVerdict(outcome.verdict);
      return outcome.rows;
    },
  };
}
