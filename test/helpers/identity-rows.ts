// One row in each of identity's establishment-owned tables, so the tenant-wall checker has
// something of A and of B to try to reach.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../src/platform/db/database.js';
import type { DemoData } from '../../src/seed/demo-data.js';
import { sealInvitees } from '../../src/modules/identity/invitation-data.js';
import type { Vault } from '../../src/modules/vault/index.js';

export async function insertIdentityRows(db: Database, vault: Vault, data: DemoData, establishmentId: string): Promise<void> {
  const admin = data.staff.find((s) => s.memberships.some((m) => m.establishmentId === establishmentId && m.role === 'admin'))!;
  const now = new Date();
  const later = new Date(now.getTime() + 3600_000);
  await db.withTenant(establishmentId, async (tx) => {
    const invitationId = randomUUID();
    await tx
      .insertInto('invitations')
      .values({ id: invitationId, establishment_id: establishmentId, ...(await sealInvitees(tx, vault, [{ id: invitationId, email: `wall.${invitationId}@example.fr`, firstName: 'A', lastName: 'B' }]))[0]!, role: 'admin', token_hash: null, invited_by: admin.userId, status: 'pending_approval', created_at: now, expires_at: later, accepted_at: null, accepted_user_id: null })
      .execute();
    await tx
      .insertInto('approval_requests')
      .values({ id: randomUUID(), establishment_id: establishmentId, kind: 'invite', target_user_id: null, invitation_id: invitationId, role: 'admin', requested_by: admin.userId, status: 'pending', created_at: now, expires_at: later, decided_by: null, decided_at: null })
      .execute();
    await tx
      .insertInto('api_keys')
      .values({ id: randomUUID(), establishment_id: establishmentId, name: 'wall', key_hash: randomBytes(32), prefix: 'hyg_wall', scopes: JSON.stringify([{ scope: 'agenda:read' }]), allowed_ips: [], expires_at: null, created_by: admin.userId, created_at: now, last_used_at: null, last_used_ip: null, revoked_at: null })
      .execute();
  });
}
