// End-to-end encrypted documents. The server stores only what it cannot read:
// - e2e_user_keys: each user's public key (SPKI), and their private key (PKCS#8) wrapped in the
//   browser by AES-GCM under keys derived from a passphrase and from a recovery code (PBKDF2),
//   neither of which ever reaches the server. Global, like the accounts it belongs to.
// - e2e_documents: AES-256-GCM ciphertexts of a document and of its name and media type, under a
//   fresh key per document, establishment-owned and walled.
// - e2e_document_keys: that key wrapped (RSA-OAEP) for each recipient's public key.
import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';
import { enableTenantIsolation, grantApp } from './rls.js';

export function up(ctx: MigrationContext) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await sql`
      create table e2e_user_keys (
        user_id uuid primary key references users(id),
        algorithm text not null check (algorithm = 'RSA-OAEP-3072-SHA-256'),
        public_key bytea not null check (octet_length(public_key) between 400 and 600),
        fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
        passphrase_wrapped bytea not null check (octet_length(passphrase_wrapped) between 1000 and 4000),
        passphrase_salt bytea not null check (octet_length(passphrase_salt) = 16),
        passphrase_iv bytea not null check (octet_length(passphrase_iv) = 12),
        passphrase_iterations integer not null check (passphrase_iterations >= 600000),
        recovery_wrapped bytea not null check (octet_length(recovery_wrapped) between 1000 and 4000),
        recovery_salt bytea not null check (octet_length(recovery_salt) = 16),
        recovery_iv bytea not null check (octet_length(recovery_iv) = 12),
        recovery_iterations integer not null check (recovery_iterations >= 600000),
        created_at timestamptz not null default now()
      )`.execute(db);
    // No UPDATE or DELETE: a key pair, once published, is not swapped behind its owner's back.
    await grantApp(db, ctx, 'e2e_user_keys', ['select', 'insert']);

    await sql`
      create table e2e_documents (
        id uuid primary key,
        establishment_id uuid not null references establishments(id),
        patient_id uuid not null references patients(id),
        author_user_id uuid not null references users(id),
        ciphertext bytea not null,
        iv bytea not null check (octet_length(iv) = 12),
        meta_ciphertext bytea not null check (octet_length(meta_ciphertext) <= 2048),
        meta_iv bytea not null check (octet_length(meta_iv) = 12),
        size_bytes integer not null,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index e2e_documents_patient_idx on e2e_documents (patient_id, created_at)`.execute(db);
    await enableTenantIsolation(db, ctx, 'e2e_documents', ['select', 'insert']);

    await sql`
      create table e2e_document_keys (
        document_id uuid not null references e2e_documents(id),
        establishment_id uuid not null references establishments(id),
        recipient_user_id uuid not null references users(id),
        wrapped_key bytea not null check (octet_length(wrapped_key) = 384),
        recipient_fingerprint text not null check (recipient_fingerprint ~ '^[0-9a-f]{64}$'),
        primary key (document_id, recipient_user_id)
      )`.execute(db);
    await sql`create index e2e_document_keys_recipient_idx on e2e_document_keys (recipient_user_id)`.execute(db);
    await enableTenantIsolation(db, ctx, 'e2e_document_keys', ['select', 'insert']);
  };
}
