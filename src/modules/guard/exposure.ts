// What the gate reports to the guard for every access, and the meter interface it calls.
import type { Tx } from '../../platform/db/database.js';
import type { Actor } from '../../platform/http/context.js';
import type { DataCategory } from '../audit/index.js';

export interface Exposure {
  actor: Actor;
  /** The actor's role in the establishment, when staff. */
  role: string | null;
  establishmentId: string;
  action: 'read' | 'write';
  resourceKind: string;
  categories: DataCategory[];
  /** Every patient whose data this request would show. */
  patientIds: string[];
  /** The subset explained by a care relationship, the patient's own access or a booking. */
  explainedPatientIds: string[];
  /** Patients reached through break-the-glass. */
  breakGlassPatientIds: string[];
  ip: string | null;
  /**
   * Set only by the guard's own export download: the two-person-approved export this exposure
   * belongs to. The meter checks it against the export register before letting it through.
   */
  exportId?: string;
}

/** Ids a request named that the gate refused as probing: found nowhere here, or (for a patient) not their own. */
export interface MissReport {
  actor: Actor;
  role: string | null;
  establishmentId: string;
  kind: 'not_found' | 'search_miss';
  count: number;
  ip: string | null;
}

export interface AccessMeter {
  /**
   * Called inside the gate's transaction, before the data is returned. Throws a DomainError
   * (`step_up_required`, `account_contained`) to refuse the request.
   */
  meter(tx: Tx, exposure: Exposure): Promise<void>;
  /**
   * Counts the request's misses for the enumeration signal, in the gate's transaction, and
   * answers the guard's verdict; the gate answers 401/423 instead of 404 when it is not 'allow'.
   */
  noteMiss?(tx: Tx, miss: MissReport): Promise<'allow' | 'step_up' | 'contain'>;
}

