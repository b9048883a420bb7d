// What a patient was about to book when the flow sent them to log in or sign up. It travels in
// navigation state (memory), never in the URL or in storage, and holds no personal data.
export interface PendingBooking {
  practitionerId: string;
  establishmentId: string;
  motiveId: string;
  start: string;
}

export interface ReturnState {
  from: string;
  resume?: PendingBooking;
}

export function readReturnState(state: unknown): ReturnState | undefined {
  if (typeof state !== 'object' || state === null || !('from' in state) || typeof state.from !== 'string' || !state.from.startsWith('/')) return undefined;
  const resume = 'resume' in state ? (state.resume as PendingBooking | undefined) : undefined;
  return { from: state.from, ...(resume ? { resume } : {}) };
}

/** A fresh Idempotency-Key for one booking attempt (a retry of the same attempt reuses it). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
