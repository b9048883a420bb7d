// Vault benchmark: field encryption and decryption throughput, and the rotation of 100,000 data
// keys, on a fresh PostgreSQL database (BENCH_DATABASE_URL, DATABASE_URL or the local server), or
// an in-memory PGlite with --pglite. Prints one JSON line per figure.
//   npx tsx bench/vault.ts [--keys 100000] [--fields 2000] [--pglite]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations/index.js';
import { createEnvKeyProvider, createVault, rotateKeys, type PatientFieldContext } from '../src/modules/vault/index.js';
import { wrapAad } from '../src/modules/vault/format.js';
import { createBenchDatabase, report as emit } from './lib.js';

const { values } = parseArgs({
  options: { keys: { type: 'string', default: '100000' }, fields: { type: 'string', default: '2000' }, pglite: { type: 'boolean' } },
});
const ROTATION_KEYS = Number(values.keys);
const FIELDS = Number(values.fields);

async function parallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const config = loadConfig({ HYGIE_LOG_LEVEL: 'silent', HYGIE_DATA_DIR: '/nonexistent-bench-dir' });
const server = values.pglite ? undefined : await createBenchDatabase('hygie_bench_vault');
const db = await openDatabase(config, server ? { databaseUrl: server.url, poolSize: 12 } : { databaseUrl: undefined, pgliteDataDir: 'memory://' });
await migrateToLatest(db.owner, { appRole: config.dbAppRole });
const t = { db };
const engine = db.kind;
const concurrency = server ? 8 : 1;
try {
  const establishmentId = uuidv7();
  await t.db.owner
    .insertInto('establishments')
    .values({ id: establishmentId, name: 'Bench', address_line: '1 rue du Banc', city: 'Lyon', postal_code: '69001' })
    .execute();
  const provider = createEnvKeyProvider([randomBytes(32)]);
  const vault = createVault({ provider });
  const ctx = (patientId: string): PatientFieldContext => ({ establishmentId, patientId, table: 'patients', column: 'note', rowId: patientId });
  const value = 'Patient suivi pour HTA, traitement par amlodipine 5 mg, bonne observance. '.repeat(3);

  // 0. Baseline: an empty tenant transaction (BEGIN, role, tenant, COMMIT), what every figure pays.
  const empties = Array.from({ length: FIELDS }, (_, i) => i);
  let start = performance.now();
  await parallel(empties, concurrency, async () => {
    await t.db.withTenant(establishmentId, async () => undefined);
  });
  emit('vault.baseline_empty_tenant_tx', FIELDS / ((performance.now() - start) / 1000), 'tx/s', { engine, concurrency });

  // 1. One field per transaction, first encryption of each patient (creates and wraps the key).
  const patients = Array.from({ length: FIELDS }, () => uuidv7());
  const ciphertexts = new Map<string, string>();
  start = performance.now();
  await parallel(patients, concurrency, async (p) => {
    ciphertexts.set(p, (await t.db.withTenant(establishmentId, (tx) => vault.encryptField(tx, ctx(p), value)))!);
  });
  emit('vault.encrypt_field_new_key', FIELDS / ((performance.now() - start) / 1000), 'tx/s', { engine, concurrency });

  // 2. Same, the patient's key already existing (the usual write).
  start = performance.now();
  await parallel(patients, concurrency, async (p) => {
    await t.db.withTenant(establishmentId, (tx) => vault.encryptField(tx, ctx(p), value));
  });
  emit('vault.encrypt_field_existing_key', FIELDS / ((performance.now() - start) / 1000), 'tx/s', { engine, concurrency });

  // 3. Lists of 50 patients, one field each, keys cached / not cached.
  const pages: string[][] = [];
  for (let i = 0; i < patients.length; i += 50) pages.push(patients.slice(i, i + 50));
  for (const [label, reader] of [
    ['cached', createVault({ provider })],
    ['uncached', createVault({ provider, cacheTtlMs: 0 })],
  ] as const) {
    await t.db.withTenant(establishmentId, (tx) => reader.decryptFields(tx, pages[0]!.map((p) => ({ ctx: ctx(p), value: ciphertexts.get(p)! }))));
    const rounds = 3;
    start = performance.now();
    for (let r = 0; r < rounds; r++) {
      await parallel(pages, concurrency, async (page) => {
        await t.db.withTenant(establishmentId, (tx) => reader.decryptFields(tx, page.map((p) => ({ ctx: ctx(p), value: ciphertexts.get(p)! }))));
      });
    }
    const seconds = (performance.now() - start) / 1000;
    emit(`vault.decrypt_list50_${label}`, (pages.length * rounds) / seconds, 'lists/s', { engine, concurrency });
    emit(`vault.decrypt_field_${label}`, (FIELDS * rounds) / seconds, 'fields/s', { engine, concurrency });
  }

  // 4. Rotation of ROTATION_KEYS data keys. The keys are made directly (wrapped in memory,
  //    inserted 5,000 per statement), as an import would.
  const { store } = vault.internals();
  const ks = { kind: 'establishment' as const, establishmentId };
  const kek = await t.db.withTenant(establishmentId, (tx) => store.findActiveKek(tx, ks, false));
  start = performance.now();
  for (let made = 0; made < ROTATION_KEYS; ) {
    const n = Math.min(5000, ROTATION_KEYS - made);
    const batch = await Promise.all(
      Array.from({ length: n }, async () => {
        const id = uuidv7();
        const ownerId = uuidv7();
        const wrapped = await provider.wrap(kek!.key_ref, establishmentId, randomBytes(32), wrapAad(establishmentId, 'patient', ownerId, id));
        return { id, ownerKind: 'patient' as const, ownerId, kekVersion: kek!.version, wrapped };
      }),
    );
    await t.db.withTenant(establishmentId, (tx) => store.insertDataKeys(tx, ks, batch));
    made += n;
  }
  emit('vault.generate_data_keys', (ROTATION_KEYS / (performance.now() - start)) * 1000, 'keys/s', { engine, keys: ROTATION_KEYS });

  start = performance.now();
  const result = await rotateKeys(t.db, vault, establishmentId);
  const seconds = (performance.now() - start) / 1000;
  emit('vault.rotation_seconds', seconds, 's', {
    engine,
    keys: result.rewrapped,
    target: '< 60 s for 100,000 on PostgreSQL',
    loadAverage: Math.round(loadavg()[0]! * 10) / 10,
  });
  emit('vault.rotation_rate', result.rewrapped / seconds, 'keys/s', { engine });

  // The rotated keys still decrypt.
  const check = await t.db.withTenant(establishmentId, (tx) =>
    createVault({ provider }).decryptField(tx, ctx(patients[0]!), ciphertexts.get(patients[0]!)!),
  );
  if (check !== value) throw new Error('rotation broke decryption');
} finally {
  await db.close();
  await server?.drop();
}
