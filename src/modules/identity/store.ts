// SQL for accounts, second factors, one-time tokens and sessions (platform tables: a person's
// account is not owned by an establishment). Every method takes the transaction it runs in.
import { sql } from 'kysely';
import type { Exec, Tx } from '../../platform/db/database.js';
import type { AuthTokenKind, ChallengeKind, MfaState, StaffRole, UsersTable } from '../../platform/db/schema.js';
import type { Selectable } from 'kysely';
import type { Vault } from '../vault/index.js';
import { accountEmailIndex, openAccountRows, sealAccounts } from './account-data.js';
import { userContainedExpression } from '../guard/index.js';

export type Membership = { establishmentId: string; role: StaffRole };

type SealedColumn = 'email_enc' | 'email_bidx' | 'first_name_enc' | 'last_name_enc' | 'birth_date_enc' | 'phone_enc';

/** A `users` row with its personal fields decrypted (identity's services work on this). */
export type UserRecord = Omit<Selectable<UsersTable>, SealedColumn> & {
  email: string;
  first_name: string;
  last_name: string;
  birth_date: string | null;
  phone: string | null;
};

/** Start-up sealing of TOTP secrets left in clear: needs no account data, hence no vault. */
export const totpSealingStore = {
  /** TOTP secrets still stored in clear (written by an older seed); sealed at start-up. */
  listClearTotpSecrets(tx: Tx) {
    return tx
      .selectFrom('users')
      .select(['id', 'totp_secret'])
      .where('totp_secret', 'is not', null)
      .where('totp_secret', 'not like', 'v1:%')
      .execute();
  },
  async sealTotpSecret(tx: Tx, userId: string, sealed: string, at: Date) {
    await tx
      .updateTable('users')
      .set((eb) => ({ totp_secret: sealed, totp_enrolled_at: eb.fn.coalesce('totp_enrolled_at', eb.val(at)) }))
      .where('id', '=', userId)
      .execute();
  },
};

export function createIdentityStore(vault: Vault) {
  async function opened(tx: Tx, row: Selectable<UsersTable> | undefined): Promise<UserRecord | undefined> {
    if (!row) return undefined;
    const { email_enc: _e, email_bidx: _b, first_name_enc: _f, last_name_enc: _l, birth_date_enc: _d, phone_enc: _p, ...rest } = row;
    const [p] = await openAccountRows(tx, vault, [row]);
    return { ...rest, email: p!.email, first_name: p!.firstName, last_name: p!.lastName, birth_date: p!.birthDate, phone: p!.phone };
  }
  return {
    // --- users (personal fields through account-data.ts: encrypted, found by the e-mail's blind index)
    async findUserByEmail(tx: Tx, email: string): Promise<UserRecord | undefined> {
      return this.findUserByEmailIndex(tx, await accountEmailIndex(tx, vault, email));
    },
    /**
     * What a password login needs to decide, nothing decrypted: a known and an unknown e-mail cost
     * the same index and the same lookup; the account is decrypted only after the password is right.
     */
    async findLoginCandidate(tx: Tx, email: string) {
      const bidx = await accountEmailIndex(tx, vault, email);
      return tx.selectFrom('users').select(['id', 'password_hash', 'disabled_at', 'totp_secret']).where('email_bidx', '=', bidx).executeTakeFirst();
    },
    async findUserByEmailIndex(tx: Tx, emailIndex: string): Promise<UserRecord | undefined> {
      return opened(tx, await tx.selectFrom('users').selectAll().where('email_bidx', '=', emailIndex).executeTakeFirst());
    },
    emailIndex(tx: Tx, email: string): Promise<string> {
      return accountEmailIndex(tx, vault, email);
    },
    /** When the account proved its e-mail (null: not yet, or no such account). */
    async emailVerifiedAt(tx: Tx, id: string): Promise<Date | null> {
      const row = await tx.selectFrom('users').select('email_verified_at').where('id', '=', id).executeTakeFirst();
      return row?.email_verified_at ?? null;
    },
    async findUserById(tx: Tx, id: string): Promise<UserRecord | undefined> {
      return opened(tx, await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst());
    },
    async insertUser(
      tx: Tx,
      user: { id: string; email: string; passwordHash: string; firstName: string; lastName: string; birthDate: string | null; phone: string | null; verifiedAt: Date | null; at: Date },
    ) {
      const [sealed] = await sealAccounts(tx, vault, [
        { id: user.id, email: user.email, firstName: user.firstName, lastName: user.lastName, birthDate: user.birthDate, phone: user.phone },
      ]);
      await tx
        .insertInto('users')
        .values({
          id: user.id,
          ...sealed!,
          email_verified_at: user.verifiedAt,
          password_hash: user.passwordHash,
          totp_secret: null,
          disabled_at: null,
          password_changed_at: user.at,
        })
        .execute();
    },
    async setPasswordHash(tx: Tx, userId: string, hash: string, changedAt: Date | null) {
      await tx
        .updateTable('users')
        .set({ password_hash: hash, ...(changedAt ? { password_changed_at: changedAt } : {}) })
        .where('id', '=', userId)
        .execute();
    },
    async setEmailVerified(tx: Tx, userId: string, at: Date) {
      await tx.updateTable('users').set({ email_verified_at: at }).where('id', '=', userId).where('email_verified_at', 'is', null).execute();
    },
    async setPendingTotp(tx: Tx, userId: string, sealed: string) {
      await tx.updateTable('users').set({ totp_pending_secret: sealed }).where('id', '=', userId).execute();
    },
    async confirmPendingTotp(tx: Tx, userId: string, step: number, at: Date) {
      await tx
        .updateTable('users')
        .set((eb) => ({ totp_secret: eb.ref('totp_pending_secret'), totp_pending_secret: null, totp_enrolled_at: at, totp_last_step: step }))
        .where('id', '=', userId)
        .execute();
    },
    /** Records the step of an accepted code; false when that step (or a later one) was already used. */
    async advanceTotpStep(tx: Tx, userId: string, step: number): Promise<boolean> {
      const r = await tx
        .updateTable('users')
        .set({ totp_last_step: step })
        .where('id', '=', userId)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', String(step))]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async clearSecondFactors(tx: Tx, userId: string) {
      await tx
        .updateTable('users')
        .set({ totp_secret: null, totp_pending_secret: null, totp_enrolled_at: null, totp_last_step: null })
        .where('id', '=', userId)
        .execute();
      await tx.deleteFrom('webauthn_credentials').where('user_id', '=', userId).execute();
      await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    },
    // --- memberships (read across establishments through a narrow definer function)
    async membershipsOf(tx: Tx, userId: string): Promise<Membership[]> {
      const { rows } = await sql<{ establishment_id: string; role: StaffRole }>`
        select establishment_id, role from hygie_user_memberships(${userId}::uuid)`.execute(tx);
      return rows.map((r) => ({ establishmentId: r.establishment_id, role: r.role }));
    },

    // --- devices
    async isKnownDevice(tx: Tx, userId: string, deviceHash: Buffer): Promise<boolean> {
      const row = await tx.selectFrom('user_devices').select('id').where('user_id', '=', userId).where('device_hash', '=', deviceHash).executeTakeFirst();
      return row !== undefined;
    },
    async rememberDevice(tx: Tx, id: string, userId: string, deviceHash: Buffer, at: Date) {
      await tx
        .insertInto('user_devices')
        .values({ id, user_id: userId, device_hash: deviceHash, first_seen_at: at, last_seen_at: at })
        .onConflict((oc) => oc.columns(['user_id', 'device_hash']).doUpdateSet({ last_seen_at: at }))
        .execute();
    },
    async hasSessionFromIp(tx: Tx, userId: string, ip: string): Promise<boolean> {
      const row = await tx.selectFrom('sessions').select('id').where('user_id', '=', userId).where('ip', '=', ip).limit(1).executeTakeFirst();
      return row !== undefined;
    },

    // --- sessions
    async insertSession(
      tx: Tx,
      s: {
        id: string;
        userId: string;
        tokenHash: Buffer;
        mfaState: MfaState;
        at: Date;
        expiresAt: Date;
        secondFactorAt: Date | null;
        ip: string | null;
        userAgent: string | null;
        deviceHash: Buffer | null;
        newDevice: boolean;
        newIp: boolean;
      },
    ) {
      await tx
        .insertInto('sessions')
        .values({
          id: s.id,
          user_id: s.userId,
          token_hash: s.tokenHash,
          mfa_state: s.mfaState,
          created_at: s.at,
          last_seen_at: s.at,
          expires_at: s.expiresAt,
          second_factor_at: s.secondFactorAt,
          ip: s.ip,
          user_agent: s.userAgent,
          device_hash: s.deviceHash,
          new_device: s.newDevice,
          new_ip: s.newIp,
          revoked_at: null,
          revoked_reason: null,
        })
        .execute();
    },
    findSessionByTokenHash(tx: Exec, tokenHash: Buffer) {
      return tx
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.id',
          'sessions.user_id',
          'sessions.mfa_state',
          'sessions.created_at',
          'sessions.last_seen_at',
          'sessions.expires_at',
          'sessions.second_factor_at',
          'sessions.revoked_at',
          'users.disabled_at',
          // The memberships in the same round trip: this runs on every authenticated request.
          sql<Membership[]>`(select coalesce(json_agg(json_build_object('establishmentId', m.establishment_id, 'role', m.role)), '[]'::json)
            from hygie_user_memberships(sessions.user_id) m)`.as('memberships'),
          // And whether the guard has contained the account (containment also revokes sessions;
          // this stops one opened in a race with it).
          userContainedExpression('sessions.user_id').as('contained'),
        ])
        .where('sessions.token_hash', '=', tokenHash)
        .executeTakeFirst();
    },
    async findSessionState(tx: Tx, sessionId: string): Promise<MfaState | undefined> {
      const row = await tx.selectFrom('sessions').select('mfa_state').where('id', '=', sessionId).executeTakeFirst();
      return row?.mfa_state;
    },
    async touchSession(tx: Exec, sessionId: string, at: Date) {
      await tx.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', sessionId).execute();
    },
    async markSecondFactor(tx: Tx, sessionId: string, at: Date) {
      await tx.updateTable('sessions').set({ second_factor_at: at, mfa_state: 'complete' }).where('id', '=', sessionId).execute();
    },
    /** Revokes one of the user's live sessions; false when there is none with that id. */
    async revokeSession(tx: Tx, userId: string, sessionId: string, reason: string, at: Date): Promise<boolean> {
      const r = await tx
        .updateTable('sessions')
        .set({ revoked_at: at, revoked_reason: reason })
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async revokeUserSessions(tx: Tx, userId: string, reason: string, at: Date, exceptSessionId?: string): Promise<number> {
      let q = tx
        .updateTable('sessions')
        .set({ revoked_at: at, revoked_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at);
      if (exceptSessionId) q = q.where('id', '<>', exceptSessionId);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    listLiveSessions(tx: Tx, userId: string, at: Date) {
      return tx
        .selectFrom('sessions')
        .select(['id', 'created_at', 'last_seen_at', 'ip', 'user_agent', 'new_device', 'new_ip', 'mfa_state'])
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .orderBy('created_at', 'desc')
        .limit(50)
        .execute();
    },

    // --- challenges (a login waiting for its second factor, a WebAuthn ceremony)
    async insertChallenge(
      tx: Tx,
      c: { id: string; kind: ChallengeKind; userId: string | null; sessionId: string | null; webauthnChallenge: string | null; deviceHash: Buffer | null; at: Date; expiresAt: Date },
    ) {
      await tx
        .insertInto('auth_challenges')
        .values({
          id: c.id,
          kind: c.kind,
          user_id: c.userId,
          session_id: c.sessionId,
          webauthn_challenge: c.webauthnChallenge,
          device_hash: c.deviceHash,
          created_at: c.at,
          expires_at: c.expiresAt,
          used_at: null,
        })
        .execute();
    },
    findLiveChallenge(tx: Tx, id: string, kind: ChallengeKind, at: Date) {
      return tx
        .selectFrom('auth_challenges')
        .selectAll()
        .where('id', '=', id)
        .where('kind', '=', kind)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
    },
    async countChallengeAttempt(tx: Tx, id: string) {
      await tx.updateTable('auth_challenges').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute();
    },
    /** Uses a challenge up; false when another request used it first. */
    async consumeChallenge(tx: Tx, id: string, at: Date): Promise<boolean> {
      const r = await tx.updateTable('auth_challenges').set({ used_at: at }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    // --- recovery codes
    async replaceRecoveryCodes(tx: Tx, userId: string, codes: Array<{ id: string; hash: Buffer }>, at: Date) {
      await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      await tx
        .insertInto('recovery_codes')
        .values(codes.map((c) => ({ id: c.id, user_id: userId, code_hash: c.hash, created_at: at, used_at: null })))
        .execute();
    },
    async useRecoveryCode(tx: Tx, userId: string, hash: Buffer, at: Date): Promise<boolean> {
      const r = await tx
        .updateTable('recovery_codes')
        .set({ used_at: at })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async countUnusedRecoveryCodes(tx: Tx, userId: string): Promise<number> {
      const row = await tx
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    // --- WebAuthn credentials
    listCredentials(tx: Tx, userId: string) {
      return tx.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
    },
    findCredential(tx: Tx, credentialId: string) {
      return tx.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
    },
    async insertCredential(
      tx: Tx,
      c: { id: string; userId: string; credentialId: string; publicKey: Uint8Array; counter: number; transports: string[]; deviceType: string; backedUp: boolean; name: string; at: Date },
    ) {
      await tx
        .insertInto('webauthn_credentials')
        .values({
          id: c.id,
          user_id: c.userId,
          credential_id: c.credentialId,
          public_key: Buffer.from(c.publicKey),
          counter: c.counter,
          transports: c.transports,
          device_type: c.deviceType,
          backed_up: c.backedUp,
          name: c.name,
          created_at: c.at,
          last_used_at: null,
        })
        .execute();
    },
    async recordCredentialUse(tx: Tx, id: string, counter: number, at: Date) {
      await tx.updateTable('webauthn_credentials').set({ counter, last_used_at: at }).where('id', '=', id).execute();
    },

    // --- one-time tokens (e-mail verification, password reset)
    async insertToken(tx: Tx, t: { id: string; kind: AuthTokenKind; userId: string; tokenHash: Buffer; at: Date; expiresAt: Date }) {
      await tx
        .insertInto('auth_tokens')
        .values({ id: t.id, kind: t.kind, user_id: t.userId, token_hash: t.tokenHash, created_at: t.at, expires_at: t.expiresAt, used_at: null })
        .execute();
    },
    /** Uses a live token up and returns its user; undefined when unknown, used or expired. */
    async consumeToken(tx: Tx, kind: AuthTokenKind, tokenHash: Buffer, at: Date): Promise<string | undefined> {
      const row = await tx
        .updateTable('auth_tokens')
        .set({ used_at: at })
        .where('kind', '=', kind)
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returning('user_id')
        .executeTakeFirst();
      return row?.user_id;
    },
    async findLiveTokenOwner(tx: Tx, kind: AuthTokenKind, tokenHash: Buffer, at: Date): Promise<UserRecord | undefined> {
      const row = await tx
        .selectFrom('auth_tokens')
        .select('user_id')
        .where('auth_tokens.kind', '=', kind)
        .where('auth_tokens.token_hash', '=', tokenHash)
        .where('auth_tokens.used_at', 'is', null)
        .where('auth_tokens.expires_at', '>', at)
        .executeTakeFirst();
      return row ? this.findUserById(tx, row.user_id) : undefined;
    },
    async invalidateTokens(tx: Tx, userId: string, kind: AuthTokenKind, at: Date) {
      await tx.updateTable('auth_tokens').set({ used_at: at }).where('user_id', '=', userId).where('kind', '=', kind).where('used_at', 'is', null).execute();
    },
  };
}

export type IdentityStore = ReturnType<typeof createIdentityStore>;
