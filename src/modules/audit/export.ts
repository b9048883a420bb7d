// Exports the signed checkpoints (with their public keys) as self-contained records, to be kept
// outside the database and given back to `hygie audit verify --checkpoints FILE`.
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import { toCheckpointRecord, type CheckpointRecord } from './sealer.js';
import { createAuditStore, streamOf } from './store.js';

export async function exportCheckpoints(exec: Kysely<DB>, options: { establishmentId?: string | null } = {}): Promise<CheckpointRecord[]> {
  const store = createAuditStore();
  const streams = options.establishmentId === undefined ? await store.knownStreams(exec) : [streamOf(options.establishmentId)];
  const out: CheckpointRecord[] = [];
  for (const stream of streams.sort()) {
    const keys = await store.keysOf(exec, stream);
    for (const c of await store.checkpointsOf(exec, stream)) {
      const key = keys.get(c.keyId);
      if (key) out.push(toCheckpointRecord(c, key));
    }
  }
  return out;
}
