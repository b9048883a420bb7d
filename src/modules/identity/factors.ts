// Which second factors a user may present, and checking them. Admins and security officers who
// have a passkey must use it: their TOTP and recovery codes stop counting (ASVS 6.3.3).
import { v7 as uuidv7 } from 'uuid';
import type { Tx } from '../../platform/db/database.js';
import type { ChallengeKind } from '../../platform/db/schema.js';
import { addMs, minutes, PRIVILEGED_ROLES, type IdentityContext } from './context.js';
import { totpSecretContext } from './secret-box.js';
import type { Membership } from './store.js';
import { checkTotp, hashRecoveryCode, normaliseRecoveryCode } from './totp.js';
import { verifyAuthentication, type AuthenticationResponseJSON, type StoredCredential } from './webauthn.js';

export type FactorMethod = 'totp' | 'webauthn' | 'recovery_code';

export interface Factors {
  hasTotp: boolean;
  passkeys: Array<StoredCredential & { id: string }>;
  /** Admin or security officer somewhere. */
  privileged: boolean;
  recoveryCodesLeft: number;
  /** The methods accepted now, in the order a client should offer them. */
  methods: FactorMethod[];
}

type UserRow = { id: string; totp_secret: string | null };

export async function factorsOf(ctx: IdentityContext, tx: Tx, user: UserRow, memberships: Membership[]): Promise<Factors> {
  const rows = await ctx.store.listCredentials(tx, user.id);
  const passkeys = rows.map((r) => ({
    id: r.id,
    credentialId: r.credential_id,
    publicKey: new Uint8Array(r.public_key),
    counter: Number(r.counter),
    transports: r.transports,
  }));
  const privileged = memberships.some((m) => PRIVILEGED_ROLES.has(m.role));
  const hasTotp = user.totp_secret !== null;
  const codesAllowed = !(privileged && passkeys.length > 0);
  const recoveryCodesLeft = await ctx.store.countUnusedRecoveryCodes(tx, user.id);
  const methods: FactorMethod[] = [];
  if (passkeys.length > 0) methods.push('webauthn');
  if (hasTotp && codesAllowed) methods.push('totp');
  if (codesAllowed && methods.length > 0 && recoveryCodesLeft > 0) methods.push('recovery_code');
  return { hasTotp, passkeys, privileged, recoveryCodesLeft, methods };
}

export function hasAnyFactor(f: Factors): boolean {
  return f.hasTotp || f.passkeys.length > 0;
}

/**
 * Checks a typed code: a TOTP code (6 digits) or a recovery code, each only where allowed. A TOTP
 * code is accepted once: the step it belongs to is recorded in the same transaction, and a code of
 * that step or an earlier one is refused afterwards (ASVS 6.5.1).
 */
export async function checkCode(
  ctx: IdentityContext,
  tx: Tx,
  user: UserRow & { totp_last_step: string | null },
  factors: Factors,
  code: string,
  allowRecovery: boolean,
): Promise<FactorMethod | undefined> {
  const now = ctx.clock();
  const trimmed = code.replace(/\s/g, '');
  if (/^\d{6}$/.test(trimmed)) {
    if (!factors.methods.includes('totp') || user.totp_secret === null) return undefined;
    const secret = await ctx.secrets.open(user.totp_secret, totpSecretContext(user.id));
    const lastStep = user.totp_last_step === null ? null : Number(user.totp_last_step);
    const result = await checkTotp(secret, trimmed, now, lastStep);
    if (!result.ok) return undefined;
    return (await ctx.store.advanceTotpStep(tx, user.id, result.step)) ? 'totp' : undefined;
  }
  const recovery = normaliseRecoveryCode(trimmed);
  if (!recovery || !allowRecovery || !factors.methods.includes('recovery_code')) return undefined;
  return (await ctx.store.useRecoveryCode(tx, user.id, hashRecoveryCode(recovery), now)) ? 'recovery_code' : undefined;
}

/** Verifies a WebAuthn assertion against one of the user's passkeys and records its use. */
export async function checkAssertion(
  ctx: IdentityContext,
  tx: Tx,
  factors: Factors,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
): Promise<boolean> {
  const credential = factors.passkeys.find((p) => p.credentialId === response.id);
  if (!credential) return false;
  const verified = await verifyAuthentication(ctx.rp, response, expectedChallenge, credential);
  if (!verified) return false;
  await ctx.store.recordCredentialUse(tx, credential.id, verified.newCounter, ctx.clock());
  return true;
}

/** A login waiting for its second factor, or a WebAuthn ceremony: five minutes to complete it. */
export async function openChallenge(
  ctx: IdentityContext,
  tx: Tx,
  c: { kind: ChallengeKind; userId: string | null; sessionId?: string; webauthnChallenge?: string; deviceHash?: Buffer | null },
): Promise<string> {
  const id = uuidv7();
  const now = ctx.clock();
  await ctx.store.insertChallenge(tx, {
    id,
    kind: c.kind,
    userId: c.userId,
    sessionId: c.sessionId ?? null,
    webauthnChallenge: c.webauthnChallenge ?? null,
    deviceHash: c.deviceHash ?? null,
    at: now,
    expiresAt: addMs(now, minutes(5)),
  });
  return id;
}
