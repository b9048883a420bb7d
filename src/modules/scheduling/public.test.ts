// motiveWithAgenda runs inside a caller's transaction: it must never wait for the cross-instance
// cache (through(), which waits for Redis up to 200 ms) while that connection is held. Under load
// that wait starved the pool (booking p99 1.3 s with Redis against 0.2 s without).
import { describe, expect, it } from 'vitest';
import { createPublicCache, type PublicCache } from '../../platform/cache.js';
import type { Tx } from '../../platform/db/database.js';
import { motiveWithAgenda } from './public.js';
import type { AgendaRow, MotiveRow, SchedulingStore } from './store.js';

const found = { motive: { id: 'm1' } as MotiveRow, agenda: { agenda_id: 'a1' } as AgendaRow };

function storeReading(reads: string[]): SchedulingStore {
  return {
    findMotiveWithAgenda: async (_tx: Tx, motiveId: string) => {
      reads.push(motiveId);
      return motiveId === 'm1' ? found : undefined;
    },
  } as unknown as SchedulingStore;
}

describe('motiveWithAgenda', () => {
  it('never goes through the synchronised path (through) while the caller holds a connection', async () => {
    const real = createPublicCache();
    const cache: PublicCache = { ...real, through: () => Promise.reject(new Error('through() waits for Redis inside a transaction')) };
    const reads: string[] = [];
    const tx = {} as Tx;
    expect(await motiveWithAgenda(cache, storeReading(reads), tx, 'm1')).toBe(found);
    expect(await motiveWithAgenda(cache, storeReading(reads), tx, 'm1')).toBe(found);
    expect(reads).toEqual(['m1']); // the second answer came from the cache
    expect(await motiveWithAgenda(cache, storeReading(reads), tx, 'nope')).toBeUndefined();
    await real.close();
  });

  it('reads the database again after a configuration change cleared the cache', async () => {
    const cache = createPublicCache();
    const reads: string[] = [];
    const tx = {} as Tx;
    await motiveWithAgenda(cache, storeReading(reads), tx, 'm1');
    await cache.invalidateAll();
    await motiveWithAgenda(cache, storeReading(reads), tx, 'm1');
    expect(reads).toEqual(['m1', 'm1']);
    await cache.close();
  });
});
