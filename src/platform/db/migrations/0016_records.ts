// Patient records, encrypted: the administrative file keeps ids in clear and every personal field
// as a vault ciphertext ("hv1:…") bound to its row and column, with blind indexes (keyed HMACs of
// normalised values) for exact search. Clinical entries are append-only versions; documents,
// rectification requests and erasure requests complete the file. Nothing here is readable without
// the establishment's keys, which the database never holds in clear.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    // Pre-release databases held identity fields in clear. Refuse to silently drop real rows:
    // the operator exports them first (or starts from an empty data directory).
    const { rows } = await sql<{ n: string }>`select count(*) as n from patients`.execute(db);
    if (Number(rows[0]?.n ?? 0) > 0) {
      throw new Error(
        'patients holds plaintext files from before encryption (migration 0016_records): start from an empty database or data directory and reload them',
      );
    }
    await sql`
      alter table patients
        drop column birth_name, drop column first_names, drop column used_name, drop column sex,
        drop column birth_date, drop column birth_place_insee, drop column email, drop column phone,
        drop column address_line1, drop column postal_code, drop column city`.execute(db);
    await sql`
      alter table patients
        add column birth_name_enc text not null,
        add column first_names_enc text not null,
        add column used_name_enc text,
        add column sex_enc text not null,
        add column birth_date_enc text not null,
        add column birth_place_insee_enc text,
        add column ins_enc text,
        add column identity_status_enc text not null,
        add column email_enc text,
        add column phone_enc text,
        add column address_enc text,
        add column general_practitioner_enc text,
        add column base_insurance_enc text,
        add column complementary_insurance_enc text,
        add column bi_last_name text not null,
        add column bi_used_name text,
        add column bi_birth_date text not null,
        add column bi_ins text,
        add column updated_at timestamptz not null default now(),
        add column erased_at timestamptz`.execute(db);
    // Every *_enc column holds a vault ciphertext or nothing: a plaintext write fails here too.
    for (const column of [
      'birth_name_enc', 'first_names_enc', 'used_name_enc', 'sex_enc', 'birth_date_enc', 'birth_place_insee_enc', 'ins_enc',
      'identity_status_enc', 'email_enc', 'phone_enc', 'address_enc', 'general_practitioner_enc', 'base_insurance_enc',
      'complementary_insurance_enc',
    ]) {
      const c = sql.id(column);
      await sql`alter table patients add constraint ${sql.id(`${column}_is_ciphertext`)} check (${c} is null or ${c} like 'hv1:%')`.execute(db);
    }
    await sql`create index patients_bi_last_name_idx on patients (establishment_id, bi_last_name)`.execute(db);
    await sql`create index patients_bi_used_name_idx on patients (establishment_id, bi_used_name) where bi_used_name is not null`.execute(db);
    await sql`create unique index patients_bi_ins_idx on patients (establishment_id, bi_ins) where bi_ins is not null`.execute(db);

    await sql`
      create table clinical_entries (
        -- One row per version; entry_id names the entry across its versions.
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        entry_id uuid not null,
        version integer not null check (version > 0),
        kind text not null check (kind in ('note', 'prescription', 'certificate', 'death_certificate', 'genetic_result')),
        author_user_id uuid not null references users(id),
        created_at timestamptz not null default now(),
        released_to_patient boolean not null default false,
        -- Genetic results: the practitioners (user ids) entitled to read them.
        named_user_ids uuid[] not null default '{}',
        content_enc text not null check (content_enc like 'hv1:%'),
        -- Death certificates: the medical (cause) section, sealed apart from the administrative one.
        confidential_enc text check (confidential_enc is null or confidential_enc like 'hv1:%'),
        unique (entry_id, version)
      )`.execute(db);
    await sql`create index clinical_entries_patient_idx on clinical_entries (establishment_id, patient_id, entry_id, version)`.execute(db);
    await enableTenantIsolation(db, ctx, 'clinical_entries', ['select', 'insert']);
    // Append-only for every role: a correction is a new version; the owner meets this trigger too.
    await sql`
      create function clinical_entries_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'clinical_entries is append-only' using errcode = 'insufficient_privilege';
      end $$`.execute(db);
    await sql`
      create trigger clinical_entries_no_update_delete before update or delete on clinical_entries
      for each row execute function clinical_entries_append_only()`.execute(db);

    await sql`
      create table patient_documents (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        category text not null check (category in ('administrative', 'clinical')),
        media_type text not null,
        byte_size integer not null check (byte_size > 0),
        title_enc text not null check (title_enc like 'hv1:%'),
        content_enc bytea not null,
        uploaded_by_user_id uuid not null references users(id),
        released_to_patient boolean not null default false,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index patient_documents_patient_idx on patient_documents (establishment_id, patient_id)`.execute(db);
    await enableTenantIsolation(db, ctx, 'patient_documents', ['select', 'insert']);

    await sql`
      create table rectification_requests (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        requested_by_user_id uuid not null references users(id),
        fields text[] not null,
        message_enc text not null check (message_enc like 'hv1:%'),
        status text not null default 'open' check (status in ('open', 'done', 'rejected')),
        created_at timestamptz not null default now(),
        resolved_at timestamptz,
        resolved_by_user_id uuid references users(id)
      )`.execute(db);
    await sql`create index rectification_requests_open_idx on rectification_requests (establishment_id, created_at) where status = 'open'`.execute(db);
    await enableTenantIsolation(db, ctx, 'rectification_requests', ['select', 'insert', 'update']);

    await sql`
      create table erasure_requests (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        reason text not null check (reason in ('patient_request', 'created_in_error', 'duplicate')),
        requested_by_user_id uuid not null references users(id),
        status text not null default 'pending' check (status in ('pending', 'approved', 'refused')),
        created_at timestamptz not null default now(),
        decided_by_user_id uuid references users(id),
        decided_at timestamptz,
        -- Two people: whoever asked cannot approve (ASVS 2.3.5).
        check (decided_by_user_id is distinct from requested_by_user_id)
      )`.execute(db);
    await sql`create index erasure_requests_patient_idx on erasure_requests (establishment_id, patient_id)`.execute(db);
    await enableTenantIsolation(db, ctx, 'erasure_requests', ['select', 'insert', 'update']);
  };
}
