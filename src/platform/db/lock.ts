// PGlite does not lock its data directory: two processes opening it would corrupt it. We take a
// lock (proper-lockfile: an atomic mkdir, refreshed while we live, stale after a crash) so that a
// second process refuses with a clear message instead.
import lockfile from 'proper-lockfile';

export interface DataDirLock {
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `The embedded database in ${dataDir} is in use by another Hygie process (probably the server). ` +
        'Stop it first, then run this command again.',
    );
    this.name = 'DataDirLockedError';
  }
}

export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: `${dataDir}/hygie.lock`,
      // Refreshed every 5 s; considered abandoned (a crashed process) after 20 s without refresh.
      stale: 20_000,
      update: 5_000,
      realpath: false,
      // onCompromised is left to its default (throw): if another process took the lock from us,
      // crashing is safer than writing to a directory someone else has open.
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await release().catch(() => undefined);
    },
  };
}
