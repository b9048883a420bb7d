// Actors built from the demo data, for tests that exercise the gate below the HTTP login layer.
import type { Actor } from '../../src/platform/http/context.js';
import type { DemoData } from '../../src/seed/demo-data.js';
import type { StaffRole } from '../../src/platform/db/schema.js';

export function staffActor(data: DemoData, establishmentId: string, role: StaffRole, index = 0, secondFactorAt: Date | null = null): Actor {
  const staff = data.staff.filter((s) => s.memberships.some((m) => m.establishmentId === establishmentId && m.role === role))[index];
  if (!staff) throw new Error(`no demo ${role} #${index} in ${establishmentId}`);
  return {
    kind: 'user',
    userId: staff.userId,
    sessionId: '00000000-0000-7000-8000-000000000000',
    memberships: staff.memberships.map((m) => ({ establishmentId: m.establishmentId, role: m.role })),
    secondFactorAt,
  };
}

export function patientActor(data: DemoData, accountIndex: number): Actor {
  const account = data.patientAccounts[accountIndex];
  if (!account) throw new Error(`no demo patient account #${accountIndex}`);
  return { kind: 'user', userId: account.userId, sessionId: '00000000-0000-7000-8000-000000000001', memberships: [], secondFactorAt: null };
}

/** Patient files of one establishment, optionally only those with (or without) an account. */
export function filesOf(data: DemoData, establishmentId: string, withAccount?: boolean) {
  return data.patientFiles.filter(
    (f) => f.establishmentId === establishmentId && (withAccount === undefined || (f.accountIndex !== null) === withAccount),
  );
}
