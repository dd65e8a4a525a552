import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './lock.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'opendci-lock-'));

describe('data-dir lock', () => {
  it('records the holder PID and refuses a second holder while it lives', () => {
    const dir = fresh();
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, 'opendci.lock'), 'utf8')).toBe(String(process.pid));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    expect(existsSync(join(dir, 'opendci.lock'))).toBe(false);
    lockDataDir(dir).release();
  });

  it('refuses a lock held by another live process, naming its PID', async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'opendci.lock'), String(child.pid));
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${child.pid}`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('takes over at once a lock whose holder is dead', async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    writeFileSync(join(dir, 'opendci.lock'), String(child.pid));
    const lock = lockDataDir(dir);
    expect(readFileSync(join(dir, 'opendci.lock'), 'utf8')).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a lock file with no readable PID (a crash between create and write)', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'opendci.lock'), '');
    lockDataDir(dir).release();
  });
});
