// What a bulk export produces is another module's business: a provider turns checked parameters
// into rows, inside the access gate's transaction. The guard owns everything around it (request,
// second person, step-ups, single download, metering, audit, alerts). Scheduling provides the
// appointments export; the records module plugs its patient-file export in the same way.
import type { Tx } from '../../platform/db/database.js';
import type { StaffRole } from '../../platform/db/schema.js';
import { DomainError } from '../../platform/http/errors.js';
import type { DataCategory } from '../audit/index.js';

export type ExportParams = Record<string, string>;

export interface ExportRow {
  /** The patient the row is about (the gate filters and meters by it); null for rows about no one. */
  patientId: string | null;
  /** One value per column, in the provider's column order. */
  values: Array<string | number | null>;
}

export interface ExportProvider {
  /** Stable name used in requests ('appointments'). */
  kind: string;
  /** What the file holds, for the approver and the OpenAPI description. */
  description: string;
  /** Data categories of the file: the gate's policy decides each patient with them. */
  categories: DataCategory[];
  /** Roles that may ask for it; the gate's policy still decides patient by patient at download. */
  requesterRoles: StaffRole[];
  columns: string[];
  /**
   * Checks and normalises the request's parameters (throws DomainError('invalid_request') naming
   * the field). Runs at request time, so the approver sees exactly what will be produced.
   */
  parseParams(params: Record<string, string>): ExportParams;
  /** Produces the rows, at download, in the gate's tenant transaction. At most `limit` rows. */
  fetch(tx: Tx, q: { establishmentId: string; params: ExportParams; limit: number }): Promise<ExportRow[]>;
}

/** A provider registry; an unknown kind is an invalid request. */
export function exportProviders(list: ExportProvider[]): Map<string, ExportProvider> {
  const map = new Map<string, ExportProvider>();
  for (const p of list) {
    if (map.has(p.kind)) throw new Error(`export provider ${p.kind} registered twice`);
    map.set(p.kind, p);
  }
  return map;
}

export function invalidParam(field: string, message: string): DomainError {
  return new DomainError('invalid_request', `params.${field}: ${message}`, { errors: [{ field: `body.params.${field}`, message }] });
}

/**
 * RFC 4180 CSV with a header line. A cell starting with =, +, -, @, tab or carriage return is
 * prefixed with an apostrophe, so that a name like "=HYPERLINK(…)" typed into a patient file
 * cannot run as a formula in the spreadsheet that opens the export (CSV injection).
 */
export function toCsv(columns: string[], rows: Array<Array<string | number | null>>): string {
  const cell = (v: string | number | null): string => {
    if (v === null) return '';
    let s = String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n;]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
