// API keys for integrations: `hyg_` + 32 random bytes, shown once, stored as SHA-256; scoped to
// one establishment and to named scopes (optionally to named practitioners), with an optional IP
// allow-list and expiry. Every use is audited in the establishment's stream.
import { isIP } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import type { ApiKeyScope } from '../../platform/db/schema.js';
import type { Actor } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { appendAuditEvent } from '../audit/index.js';
import { requireStepUp } from './session-policy.js';
import { assertRole, type StaffContext } from './staff.js';
import { looksLikeApiKey, newApiKey, sha256 } from './tokens.js';

/**
 * Scopes an integration may hold: the ones the access gate's policy knows (what each opens is
 * decided there). Agenda scopes can be narrowed to named practitioners.
 */
export const API_SCOPES = ['agenda:read', 'agenda:write', 'patients:read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];
const PRACTITIONER_SCOPES = new Set<string>(['agenda:read', 'agenda:write']);

/**
 * The scope strings carried by the actor: the scope itself (what the gate reads) and, when it is
 * narrowed, one `scope@<practitionerId>` per practitioner, which apiKeyAllows() enforces.
 */
export function scopeStrings(scopes: ApiKeyScope[]): string[] {
  return scopes.flatMap((s) => [s.scope, ...(s.practitionerIds ?? []).map((p) => `${s.scope}@${p}`)]);
}

/**
 * For other modules' routes that accept API keys: does this actor's key grant `scope` in this
 * establishment, and, when the key narrows the scope to practitioners, for this practitioner?
 * Users are not judged here.
 */
export function apiKeyAllows(actor: Actor, scope: ApiScope, target: { establishmentId: string; practitionerId?: string }): boolean {
  if (actor.kind !== 'api_key' || actor.establishmentId !== target.establishmentId || !actor.scopes.includes(scope)) return false;
  const narrowed = actor.scopes.filter((s) => s.startsWith(`${scope}@`));
  if (narrowed.length === 0) return true;
  return target.practitionerId !== undefined && narrowed.includes(`${scope}@${target.practitionerId}`);
}

/** Throws 404 for a key of another establishment and 403 for a scope the key does not hold. */
export function requireApiScope(actor: Actor, scope: ApiScope, target: { establishmentId: string; practitionerId?: string }): void {
  if (actor.kind !== 'api_key') throw new DomainError('forbidden');
  if (actor.establishmentId !== target.establishmentId) throw new DomainError('not_found');
  if (!apiKeyAllows(actor, scope, target)) throw new DomainError('forbidden', 'This API key does not hold the scope for this request.');
}

export interface ApiKeyInput {
  name: string;
  scopes: ApiKeyScope[];
  allowedIps?: string[] | undefined;
  expiresAt?: string | undefined;
}

function validateKeyInput(ctx: StaffContext, input: ApiKeyInput): { allowedIps: string[]; expiresAt: Date | null } {
  const errors: Array<{ field: string; message: string }> = [];
  input.scopes.forEach((s, i) => {
    if (!(API_SCOPES as readonly string[]).includes(s.scope)) errors.push({ field: `body.scopes.${i}.scope`, message: 'unknown scope' });
    if (s.practitionerIds?.length && !PRACTITIONER_SCOPES.has(s.scope)) errors.push({ field: `body.scopes.${i}.practitionerIds`, message: 'this scope cannot be narrowed to practitioners' });
  });
  const allowedIps = (input.allowedIps ?? []).map((entry, i) => {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) errors.push({ field: `body.allowedIps.${i}`, message: 'not an IP address or CIDR range' });
    return entry;
  });
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt <= ctx.clock()) errors.push({ field: 'body.expiresAt', message: 'must be in the future' });
  if (errors.length > 0) throw new DomainError('invalid_request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
  return { allowedIps, expiresAt };
}

export async function createApiKey(ctx: StaffContext, actor: Actor, establishmentId: string, input: ApiKeyInput) {
  assertRole(actor, establishmentId, ['admin']);
  requireStepUp(actor, ctx.clock());
  const { allowedIps, expiresAt } = validateKeyInput(ctx, input);
  const key = newApiKey();
  const id = uuidv7();
  await ctx.db.withTenant(establishmentId, async (tx) => {
    await ctx.staff.insertApiKey(tx, {
      id,
      establishmentId,
      name: input.name.trim(),
      keyHash: sha256(key),
      prefix: key.slice(0, 8),
      scopes: input.scopes,
      allowedIps,
      expiresAt,
      createdBy: actor.userId,
      at: ctx.clock(),
    });
    await appendAuditEvent(tx, { establishmentId, actor, actorRole: 'admin', action: 'identity.api_key.create', resourceKind: 'api_key', resourceIds: [id], outcome: 'allowed' });
  });
  return { id, key, name: input.name.trim(), scopes: input.scopes, allowedIps, expiresAt: expiresAt?.toISOString() ?? null };
}

export async function listApiKeys(ctx: StaffContext, actor: Actor, establishmentId: string) {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  const rows = await ctx.db.withTenant(establishmentId, (tx) => ctx.staff.listApiKeys(tx));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes,
    allowedIps: r.allowed_ips,
    expiresAt: r.expires_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    revoked: r.revoked_at !== null,
  }));
}

/** Revoking needs no step-up: cutting access is always allowed to those who may see the keys. */
export async function revokeApiKey(ctx: StaffContext, actor: Actor, establishmentId: string, id: string) {
  assertRole(actor, establishmentId, ['admin', 'security_officer']);
  await ctx.db.withTenant(establishmentId, async (tx) => {
    if (!(await ctx.staff.revokeApiKey(tx, id, ctx.clock()))) throw new DomainError('not_found');
    await appendAuditEvent(tx, { establishmentId, actor, action: 'identity.api_key.revoke', resourceKind: 'api_key', resourceIds: [id], outcome: 'allowed' });
  });
}

const LAST_USED_PRECISION_MS = 60_000;

/** The actor of a request bearing an API key; 401 for any key that is unknown, revoked, expired or used from outside its allow-list. */
export async function authenticateApiKey(ctx: StaffContext, key: string, ip: string): Promise<Actor> {
  const refused = () => new DomainError('unauthenticated', 'Invalid API key');
  if (!looksLikeApiKey(key)) throw refused();
  const keyHash = sha256(key);
  const located = await ctx.db.withPlatform((tx) => ctx.staff.locateApiKey(tx, keyHash));
  if (!located) throw refused();
  const result = await ctx.db.withTenant(located.establishmentId, async (tx) => {
    const row = await ctx.staff.findApiKey(tx, located.id);
    if (!row) return { actor: undefined, reason: 'unknown' };
    const now = ctx.clock();
    const reason = row.revoked_at ? 'revoked' : row.expires_at && row.expires_at <= now ? 'expired' : !(await ctx.staff.ipAllowed(tx, row.id, ip)) ? 'ip_not_allowed' : undefined;
    const actor: Actor = { kind: 'api_key', apiKeyId: row.id, establishmentId: row.establishment_id, scopes: scopeStrings(row.scopes) };
    await appendAuditEvent(tx, { establishmentId: row.establishment_id, actor, ip, action: 'auth.api_key', resourceKind: 'api_key', resourceIds: [row.id], reason: reason ?? null, outcome: reason ? 'denied' : 'allowed' });
    if (reason) return { actor: undefined, reason };
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= LAST_USED_PRECISION_MS) await ctx.staff.recordApiKeyUse(tx, row.id, ip, now);
    return { actor, reason: undefined };
  });
  if (!result.actor) throw refused();
  return result.actor;
}
