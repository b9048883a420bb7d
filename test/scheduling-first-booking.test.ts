// An account's first booking at an establishment writes its patient file and the file's data key
// in the booking's own statement (the vault prepares the key, the statement checks its key
// version is still the active one). What must hold: the three exist together or not at all, and a
// rotation made meanwhile by another instance never leaves a file under a key that was not stored.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { as, buildSchedulingTestApp } from './helpers/scheduling-auth.js';
import { createMiniAgenda, type MiniAgenda } from './helpers/scheduling-fixture.js';
import { createVault, rotateKeys } from '../src/modules/vault/index.js';

let t: TestDatabase;
let app: FastifyInstance;
let fixture: MiniAgenda;

beforeAll(async () => {
  t = await createTestDatabase();
  fixture = await createMiniAgenda(t.db, t.vault, { slots: 6, patients: 6, slotMinutes: 30 });
  app = await buildSchedulingTestApp(t);
});
afterAll(async () => {
  await app?.close();
  await t?.drop();
});

const book = (userId: string, slot: number) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/appointments',
    headers: { 'content-type': 'application/json', ...as(userId) },
    payload: { practitionerId: fixture.practitionerId, motiveId: fixture.motiveId, start: fixture.slots[slot] },
  });

const fileOf = (userId: string) =>
  t.db.owner
    .selectFrom('patients')
    .select(['id', 'birth_name_enc'])
    .where('establishment_id', '=', fixture.establishmentId)
    .where('account_user_id', '=', userId)
    .execute();

const keysOf = (ownerId: string) =>
  t.db.owner
    .selectFrom('vault_data_keys')
    .select(['id', 'kek_version'])
    .where('establishment_id', '=', fixture.establishmentId)
    .where('owner_kind', '=', 'patient')
    .where('owner_id', '=', ownerId)
    .execute();

const openBirthName = (fileId: string, sealed: string) =>
  // A vault with nothing cached, as another instance reading the file later.
  t.db.withTenant(fixture.establishmentId, (tx) =>
    createVault({ provider: t.vault.provider }).decryptField(tx, { establishmentId: fixture.establishmentId, patientId: fileId, table: 'patients', column: 'birth_name_enc', rowId: fileId }, sealed),
  );

describe("an account's first booking at an establishment", () => {
  it('several first bookings of one account at once (two tabs) all succeed, with one file', async () => {
    const userId = fixture.patientUserIds[4]!;
    const results = await Promise.all([4, 5].map((slot) => book(userId, slot)));
    expect(results.map((r) => r.statusCode)).toEqual([201, 201]);
    const files = await fileOf(userId);
    expect(files).toHaveLength(1);
    const appointments = await t.db.owner.selectFrom('appointments').select('patient_id').where('id', 'in', results.map((r) => (r.json() as { id: string }).id)).execute();
    expect(appointments.map((a) => a.patient_id)).toEqual([files[0]!.id, files[0]!.id]);
    expect(await keysOf(files[0]!.id)).toHaveLength(1);
  });

  it('writes the file and its data key with the booking; a refused booking leaves neither', async () => {
    const [first, second] = fixture.patientUserIds as [string, string];
    expect((await book(first, 0)).statusCode).toBe(201);
    const [file] = await fileOf(first);
    expect(file).toBeDefined();
    const keys = await keysOf(file!.id);
    expect(keys).toHaveLength(1);
    expect(await openBirthName(file!.id, file!.birth_name_enc)).toBe('NUMERO0');

    // The same slot for another account with no file here: 409, and no file nor key for it.
    const before = await t.db.owner.selectFrom('vault_data_keys').select('id').where('establishment_id', '=', fixture.establishmentId).execute();
    const lost = await book(second, 0);
    expect(lost.statusCode).toBe(409);
    expect(await fileOf(second)).toHaveLength(0);
    const after = await t.db.owner.selectFrom('vault_data_keys').select('id').where('establishment_id', '=', fixture.establishmentId).execute();
    expect(after.map((k) => k.id).sort()).toEqual(before.map((k) => k.id).sort());
  });

  it('after another instance rotated the keys, the file is sealed under a key of the new version, never a lost one', async () => {
    const userId = fixture.patientUserIds[2]!;
    // This server's vault remembers the active version from the previous test's booking; another
    // instance rotates without telling it.
    const rotated = await rotateKeys(t.db, createVault({ provider: t.vault.provider }), fixture.establishmentId, { batchSize: 100 });
    expect(rotated.toVersion).toBeGreaterThan(rotated.fromVersion ?? 0);
    const res = await book(userId, 2);
    expect(res.statusCode).toBe(201);
    const [file] = await fileOf(userId);
    const keys = await keysOf(file!.id);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.kek_version).toBe(rotated.toVersion);
    expect(await openBirthName(file!.id, file!.birth_name_enc)).toBe('NUMERO2');
    const appointment = await t.db.owner.selectFrom('appointments').select('patient_id').where('id', '=', (res.json() as { id: string }).id).executeTakeFirstOrThrow();
    expect(appointment.patient_id).toBe(file!.id);

    // The next first booking uses the version it has just learnt.
    const next = fixture.patientUserIds[3]!;
    expect((await book(next, 3)).statusCode).toBe(201);
    const [nextFile] = await fileOf(next);
    expect((await keysOf(nextFile!.id))[0]!.kek_version).toBe(rotated.toVersion);
  });
});

describe("an account's first waiting-list entries at an establishment", () => {
  it('two entries at once (two tabs, two motives) both succeed, with one file', async () => {
    // A second motive on the same agenda, so that the two entries are on different lists.
    const motive = await t.db.owner.selectFrom('visit_motives').selectAll().where('id', '=', fixture.motiveId).executeTakeFirstOrThrow();
    const otherMotiveId = randomUUID();
    await t.db.withTenant(fixture.establishmentId, (tx) => tx.insertInto('visit_motives').values({ ...motive, id: otherMotiveId, label: 'Suivi' }).execute());
    const userId = fixture.patientUserIds[5]!;
    expect(await fileOf(userId)).toHaveLength(0);
    const results = await Promise.all(
      [fixture.motiveId, otherMotiveId].map((motiveId) =>
        app.inject({ method: 'POST', url: '/api/v1/waitlist', headers: { 'content-type': 'application/json', ...as(userId) }, payload: { practitionerId: fixture.practitionerId, motiveId } }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([201, 201]);
    const files = await fileOf(userId);
    expect(files).toHaveLength(1);
    const entries = await t.db.owner.selectFrom('waitlist_entries').select(['patient_id', 'motive_id']).where('patient_id', '=', files[0]!.id).execute();
    expect(entries.map((e) => e.motive_id).sort()).toEqual([fixture.motiveId, otherMotiveId].sort());
    expect(await keysOf(files[0]!.id)).toHaveLength(1);
  });
});
