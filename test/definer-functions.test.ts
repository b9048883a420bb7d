// The security-definer functions behind the session check (memberships, containment, API keys):
// they answer from the real tables, and a temporary table of the same name is not read in their
// place (migration 0090: pg_temp last in their search path); and the application role cannot
// make temporary tables at all (migration 0091).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import type { Exec } from '../src/platform/db/database.js';
import { insertAccounts } from './helpers/accounts.js';

let t: TestDatabase;
const establishmentId = uuidv7();
const member = uuidv7();
const stranger = uuidv7();
const keyHash = randomBytes(32);
const apiKeyId = uuidv7();

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.owner.insertInto('establishments').values({ id: establishmentId, name: 'Centre', address_line: '1 rue', city: 'Paris', postal_code: '75001' }).execute();
  await insertAccounts(t.db, t.vault, [
    { id: member, email: `member.${member.slice(-12)}@test.hygie.example`, firstName: 'Marie', lastName: 'Membre', birthDate: null, phone: null },
    { id: stranger, email: `stranger.${stranger.slice(-12)}@test.hygie.example`, firstName: 'Paul', lastName: 'Tiers', birthDate: null, phone: null },
  ]);
  await t.db.owner.insertInto('memberships').values({ id: uuidv7(), user_id: member, establishment_id: establishmentId, role: 'secretary' }).execute();
  await t.db.owner.insertInto('contained_actors').values({ id: uuidv7(), establishment_id: establishmentId, actor_key: `user:${member}`, user_id: member, api_key_id: null, alert_id: null, contained_at: new Date(), released_at: null, released_by_user_id: null }).execute();
  await t.db.withTenant(establishmentId, (tx) =>
    tx
      .insertInto('api_keys')
      .values({ id: apiKeyId, establishment_id: establishmentId, name: 'test', key_hash: keyHash, prefix: 'hyg_test', scopes: '{}', allowed_ips: [], expires_at: null, created_by: member, created_at: new Date(), last_used_at: null, last_used_ip: null, revoked_at: null })
      .execute(),
  );
});
afterAll(async () => {
  await t?.drop();
});

/** What the functions answer, for the member and the stranger. */
async function readAnswers(tx: Exec) {
  const { rows: memberships } = await sql<{ user_id: string; role: string }>`
    select u.id as user_id, m.role from (values (${member}::uuid), (${stranger}::uuid)) u(id), hygie_user_memberships(u.id) m order by 1`.execute(tx);
  const { rows: contained } = await sql<{ member: boolean; stranger: boolean }>`
    select hygie_actor_contained(${`user:${member}`}) as member, hygie_actor_contained(${`user:${stranger}`}) as stranger`.execute(tx);
  const { rows: keys } = await sql<{ id: string }>`select id from hygie_api_key_lookup(${keyHash})`.execute(tx);
  return { memberships, contained: contained[0], keys: keys.map((k) => k.id) };
}
const answers = () => t.db.withPlatform(readAnswers);
const real = () => ({ memberships: [{ user_id: member, role: 'secretary' }], contained: { member: true, stranger: false }, keys: [apiKeyId] });

describe('security-definer functions of the session check', () => {
  it('answer from the real tables', async () => {
    expect(await answers()).toEqual(real());
  });

  it('the application role cannot create temporary tables (migration 0091)', async () => {
    // A temporary `sessions` or `memberships` would stand in for the real table in every later
    // statement on that pooled connection.
    await expect(t.db.withPlatform((tx) => sql`create temporary table sessions (id uuid) on commit drop`.execute(tx))).rejects.toMatchObject({ code: '42501' });
    await expect(t.db.withTenant(establishmentId, (tx) => sql`create temporary table memberships (id uuid) on commit drop`.execute(tx))).rejects.toMatchObject({ code: '42501' });
  });

  it("do not read the session's temporary tables of the same names (migration 0090)", async () => {
    // Made by the owner (the application role may not), then the functions called as the application role.
    const shadowed = await t.db.owner.transaction().execute(async (tx) => {
      await sql`create temporary table memberships (user_id uuid, establishment_id uuid, role text, created_at timestamptz) on commit drop`.execute(tx);
      await sql`insert into memberships values (${stranger}::uuid, ${establishmentId}::uuid, 'admin', now())`.execute(tx);
      await sql`create temporary table contained_actors (actor_key text, released_at timestamptz) on commit drop`.execute(tx);
      await sql`insert into contained_actors values (${`user:${stranger}`}, null)`.execute(tx);
      await sql`create temporary table api_keys (id uuid, establishment_id uuid, key_hash bytea) on commit drop`.execute(tx);
      await sql`insert into api_keys values (${uuidv7()}::uuid, ${establishmentId}::uuid, ${keyHash})`.execute(tx);
      // Unqualified reads in this session do see the temporary tables (the shadowing is real).
      const { rows } = await sql<{ role: string }>`select role from memberships where user_id = ${stranger}::uuid`.execute(tx);
      await sql`select set_config('role', ${t.config.dbAppRole}, true)`.execute(tx);
      return { own: rows.map((r) => r.role), ...(await readAnswers(tx)) };
    });
    expect(shadowed).toEqual({ own: ['admin'], ...real() });
    // And nothing is left behind on the connection.
    expect(await answers()).toEqual(real());
  });
});
