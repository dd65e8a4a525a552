/** Shared helpers of the benchmarks: machine description and docs/performance.md sections. */
import { execSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { writeNdjson } from '../packages/server/src/registry/generate.js';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const performanceDoc = `${root}docs/performance.md`;

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let pg = 'unknown';
  try {
    pg = execSync(
      `psql "${process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'}" -Atc 'show server_version'`,
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    ).trim();
  } catch {
    /* no psql */
  }
  return `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${pg} (as configured on the machine), ${new Date().toISOString().slice(0, 10)}`;
}

/** Replaces (or appends) the section between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function writeSection(name: string, body: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const doc = existsSync(performanceDoc) ? readFileSync(performanceDoc, 'utf8') : '# Performance\n';
  // A blank line after the start marker, as Prettier puts it.
  const block = `${start}\n\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  const next =
    from >= 0 && to > from ? doc.slice(0, from) + block + doc.slice(to + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(performanceDoc, next);
}

/** A positive number from the environment (an integer when `integer`), or the fallback when unset. */
export function envNumber(name: string, fallback: number, options: { integer?: boolean } = {}): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  const ok = options.integer ? Number.isInteger(value) : Number.isFinite(value);
  if (!ok || value <= 0) {
    throw new Error(`${name} must be a positive ${options.integer ? 'integer' : 'number'} (got "${text}")`);
  }
  return value;
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** (Re)creates an empty PostgreSQL database for a benchmark and returns its URL. */
export async function freshPostgresDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// Generated registry data

/** Where generated data files and logs of the benchmarks go (git-ignored). */
export const benchDir = join(root, '.bench');

/**
 * Writes `households` generated households (`dci registry generate`'s generator, NDJSON) to
 * `.bench/registry-h<N>-s<seed>.ndjson`; returns the path, the time it took and the individuals.
 */
export async function generatedDataFile(
  households: number,
  seed: string,
): Promise<{ path: string; ms: number; individuals: number }> {
  mkdirSync(benchDir, { recursive: true });
  const path = join(benchDir, `registry-h${households}-s${seed}.ndjson`);
  const started = Date.now();
  const summary = await writeNdjson(path, { households, seed });
  return { path, ms: Date.now() - started, individuals: summary.individuals };
}

// ---------------------------------------------------------------------------------------------
// Child processes: pinned to a core, tracked, and never left behind

let pinnable: boolean | undefined;

/** True when `taskset` runs here and the machine has at least two cores. */
export function canPin(): boolean {
  pinnable ??= cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return pinnable;
}

/** `[command, args]` run on `core` alone (`taskset -c core …`), or unchanged when pinning is not possible. */
export function pinned(core: number, command: string, args: readonly string[]): [string, string[]] {
  return canPin() ? ['taskset', ['-c', String(core), command, ...args]] : [command, [...args]];
}

const children = new Set<ChildProcess>();

/** Spawns a child that is killed when this process exits (normally, on an error or on a signal). */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Stops a child: SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

let cleanupInstalled = false;

/**
 * Kills every tracked child when this process exits, also on SIGINT/SIGTERM/SIGHUP and uncaught
 * errors. On a signal, `onSignal` (e.g. dropping a benchmark database) runs after the children
 * are killed, for at most 10 s, then the process exits with 130.
 */
export function installChildCleanup(onSignal?: () => Promise<void>): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the child processes`);
      killChildren();
      const deadline = new Promise((r) => setTimeout(r, 10_000).unref());
      void Promise.race([onSignal?.().catch(() => undefined), deadline]).finally(() => process.exit(130));
    });
  }
}

/** Polls `url` until it answers 2xx; fails when `child` exits first or after `timeoutMs`. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${url}: the process exited (${child.exitCode ?? child.signalCode}) before it answered`);
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url}: no answer after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A long-running process started by startPinned: its base URL and log file. */
export interface Running {
  base: string;
  child: ChildProcess;
  log: string;
}

/** The last 20 lines of a log file ('' when it cannot be read). */
export function logTail(log: string): string {
  try {
    return readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts a long-running Node process (`args`) pinned to `core`, on a free port (`PORT`, `HOST`
 * 127.0.0.1 in its environment) with its output in `.bench/<logName>.log`; waits for /ready.
 */
export async function startPinned(
  core: number,
  logName: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<Running> {
  const port = await freePort();
  mkdirSync(benchDir, { recursive: true });
  const log = join(benchDir, `${logName}.log`);
  const fd = openSync(log, 'w');
  const [command, pinnedArgs] = pinned(core, process.execPath, args);
  const child = spawnTracked(command, pinnedArgs, {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}/ready`, child, 90_000);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${logName} did not start: ${(error as Error).message}\n${logTail(log)}`, { cause: error });
  }
  return { base, child, log };
}

/** Stops a process started by startPinned; an unexpected exit code is reported with its log's tail. */
export async function stopPinned(running: Running): Promise<void> {
  await stopChild(running.child);
  const code = running.child.exitCode;
  if (code !== null && code !== 0 && code !== 143)
    console.warn(`${running.log}: exited ${code}\n${logTail(running.log)}`);
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Drops a database a benchmark created with freshPostgresDatabase. */
export async function dropPostgresDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
