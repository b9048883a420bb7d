// A stand-in authenticator for scheduling's HTTP tests until the identity module lands: the
// header X-Test-User names a user id; memberships are read from the database. Test-only.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/platform/db/database.js';
import type { Authenticator } from '../../src/platform/http/context.js';
import { DomainError } from '../../src/platform/http/errors.js';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/platform/log.js';
import type { TestDatabase } from './db.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function testAuthenticator(db: Database): Authenticator {
  return async (request) => {
    const userId = request.headers['x-test-user'];
    if (typeof userId !== 'string' || !UUID.test(userId)) throw new DomainError('unauthenticated');
    const user = await db.owner.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new DomainError('unauthenticated');
    const memberships = await db.owner.selectFrom('memberships').select(['establishment_id', 'role']).where('user_id', '=', userId).execute();
    request.actor = {
      kind: 'user',
      userId,
      sessionId: randomUUID(),
      memberships: memberships.map((m) => ({ establishmentId: m.establishment_id, role: m.role })),
      secondFactorAt: null,
    };
  };
}

export async function buildSchedulingTestApp(t: TestDatabase, options: { now?: () => number } = {}): Promise<FastifyInstance> {
  return buildApp({
    config: t.config,
    db: t.db,
    vault: t.vault,
    logger: createLogger('silent'),
    authenticate: testAuthenticator(t.db),
    ...(options.now ? { now: options.now } : {}),
  });
}

export const as = (userId: string) => ({ 'x-test-user': userId });
