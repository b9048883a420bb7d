// The module's tables (migration 0031_e2e_documents), merged into the database type from here so
// that the shared schema file does not change with every module.
import type { ColumnType } from 'kysely';

/** Set by the database on insert, never updated. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface E2eUserKeysTable {
  user_id: string;
  algorithm: string;
  public_key: Buffer;
  fingerprint: string;
  passphrase_wrapped: Buffer;
  passphrase_salt: Buffer;
  passphrase_iv: Buffer;
  passphrase_iterations: number;
  recovery_wrapped: Buffer;
  recovery_salt: Buffer;
  recovery_iv: Buffer;
  recovery_iterations: number;
  created_at: CreatedAt;
}

export interface E2eDocumentsTable {
  id: string;
  establishment_id: string;
  patient_id: string;
  author_user_id: string;
  ciphertext: Buffer;
  iv: Buffer;
  meta_ciphertext: Buffer;
  meta_iv: Buffer;
  size_bytes: number;
  created_at: CreatedAt;
}

export interface E2eDocumentKeysTable {
  document_id: string;
  establishment_id: string;
  recipient_user_id: string;
  wrapped_key: Buffer;
  recipient_fingerprint: string;
}

declare module '../../platform/db/schema.js' {
  interface DB {
    e2e_user_keys: E2eUserKeysTable;
    e2e_documents: E2eDocumentsTable;
    e2e_document_keys: E2eDocumentKeysTable;
  }
}
