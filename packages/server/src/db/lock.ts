import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded store ${dir} is in use by process ${pid} (a running server?): stop it, ` +
        `or use the admin API of the running server`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DirLock {
  readonly path: string;
  release(): void;
}

const LOCK_FILE = 'opendci.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on an embedded data directory: PGlite itself does not lock it, and two
 * processes on one directory corrupt it. The lock file records the holder's PID; a lock whose
 * holder is dead (SIGKILL, crash) is taken over at once.
 */
export function lockDataDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  // Written aside and hard-linked into place: the lock appears atomically, PID included.
  const staged = `${path}.${process.pid}`;
  writeFileSync(staged, String(process.pid));
  try {
    return acquire(dir, path, staged);
  } finally {
    rmSync(staged, { force: true });
  }
}

function acquire(dir: string, path: string, staged: string): DirLock {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      linkSync(staged, path);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          if (readPid(path) === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPid(path);
      if (holder === process.pid) throw new DataDirLockedError(dir, holder);
      if (holder !== undefined && isAlive(holder)) throw new DataDirLockedError(dir, holder);
      // Dead or unreadable holder: remove and retry (another contender may win the race).
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock ${dir}`);
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
