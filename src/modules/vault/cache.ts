// A bounded, short-lived LRU of unwrapped data keys, so a list of 50 patients does not unwrap 50
// keys on every page. Bounded in size (memory holds few keys) and in time (a key shredded by another
// instance stops being usable here within the TTL); entries are evicted at once on shred/rotation.
export interface CachedKey {
  /** The data key's id, where the cache is keyed by owner instead. */
  id?: string;
  key: Buffer;
  scope: string;
  ownerKind: string;
  ownerId: string;
}

export class DataKeyCache {
  readonly #entries = new Map<string, { value: CachedKey; expiresAt: number }>();
  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(keyId: string): CachedKey | undefined {
    const hit = this.#entries.get(keyId);
    if (!hit) return undefined;
    this.#entries.delete(keyId);
    if (hit.expiresAt <= this.now()) return undefined;
    // Re-inserted: Map keeps insertion order, so the first entry is the least recently used.
    this.#entries.set(keyId, hit);
    return hit.value;
  }

  set(keyId: string, value: CachedKey): void {
    if (this.maxEntries <= 0 || this.ttlMs <= 0) return;
    this.#entries.delete(keyId);
    this.#entries.set(keyId, { value: { ...value, key: Buffer.from(value.key) }, expiresAt: this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(keyId: string): void {
    // Not zeroed: a caller may still hold the buffer for an operation in flight.
    this.#entries.delete(keyId);
  }

  /** Evicts every key of a keyspace (an establishment id, or 'platform'). */
  evictScope(scope: string): void {
    for (const [id, e] of this.#entries) if (e.value.scope === scope) this.delete(id);
  }

  clear(): void {
    for (const id of [...this.#entries.keys()]) this.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
