/**
 * The built `dci` binary, run as a user runs it (npm ci builds it): real processes, a real
 * embedded store on disk, and the local PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { bin, freePort, runDci, type Run } from './test-support/run.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, TEST_DATABASE_URL } from '../../server/src/test-support/backends.js';
import { LATEST_MIGRATION } from '../../server/src/db/migrate.js';

function dci(args: string[], env: Record<string, string>): Promise<Run> {
  return runDci(args, env);
}

const work = mkdtempSync(join(tmpdir(), 'opendci-cli-'));
const embedded = { DATABASE_URL: `pglite:${join(work, 'store')}` };

describe('dci on the embedded store', () => {
  it('imports a file, reports bad rows by line with exit code 2, and re-imports idempotently', async () => {
    const file = join(work, 'people.ndjson');
    writeFileSync(
      file,
      [
        JSON.stringify({ type: 'area', code: 'KL', name: 'Kalima' }),
        JSON.stringify({
          type: 'individual',
          identifiers: [{ type: 'UIN', value: '1' }],
          given_name: 'Ann',
          area_code: 'KL',
        }),
        JSON.stringify({ type: 'individual', identifiers: [{ type: 'UIN', value: '2' }], birth_date: 'yesterday' }),
      ].join('\n'),
    );
    const first = await dci(['registry', 'import', file], embedded);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(/3 rows in [\d.]+ s: 2 inserted, 0 updated, 0 unchanged, 1 failed/);
    expect(first.stdout).toMatch(/line 3: birth_date: "yesterday" is not a date/);

    const again = await dci(['registry', 'import', file, '--json'], embedded);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout)).toMatchObject({
      rows: 3,
      inserted: 0,
      unchanged: 2,
      failed: 1,
      errors: [{ line: 3 }],
    });
  }, 60_000);

  it('generates deterministic data to a file and loads it', async () => {
    const a = join(work, 'a.ndjson');
    const b = join(work, 'b.ndjson');
    expect((await dci(['registry', 'generate', '--households', '30', '--seed', '7', '--out', a], embedded)).code).toBe(
      0,
    );
    expect(
      (await dci(['registry', 'generate', '--households', '30', '--seed', '7', '--out', b, '--json'], embedded)).code,
    ).toBe(0);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    const load = await dci(['registry', 'import', a, '--json'], embedded);
    expect(load.code).toBe(0);
    const report = JSON.parse(load.stdout) as Record<'failed' | 'inserted' | 'updated' | 'unchanged' | 'rows', number>;
    expect(report.failed).toBe(0);
    // the area KL came with the first test's file; everything else is new
    expect(report.inserted + report.updated + report.unchanged).toBe(report.rows);
    expect(report.inserted).toBeGreaterThanOrEqual(report.rows - 1);
  }, 60_000);

  it('refuses the data dir while a server holds it, and takes it over once that server is killed', async () => {
    const port = await freePort();
    const server: ChildProcess = spawn(process.execPath, [bin, 'serve'], {
      env: { ...process.env, ...embedded, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // What the server said: a server that never gets ready, or exits, is reported with its output.
    let output = '';
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      try {
        await expect
          .poll(async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.status, {
            timeout: 120_000,
            interval: 250,
          })
          .toBe(200);
      } catch (error) {
        const state = server.exitCode === null ? 'still running' : `exited ${server.exitCode}`;
        throw new Error(`${(error as Error).message}\ndci serve ${state}, its output:\n${output}`, { cause: error });
      }
      const refused = await dci(['migrate'], embedded);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`in use by process ${server.pid} .*stop it`));
    } finally {
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
    }
    const after = await dci(['migrate'], embedded);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/up to date/);
  }, 180_000);

  it('reports every configuration problem at once', async () => {
    const run = await dci(['migrate'], { ...embedded, PORT: 'x', DCI_ROLE: 'boss' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/invalid configuration:[\s\S]*PORT[\s\S]*DCI_ROLE/);
  });

  it('refuses --demo in production', async () => {
    const run = await dci(['serve', '--demo'], {
      ...embedded,
      NODE_ENV: 'production',
      DCI_KEY_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--demo is refused when NODE_ENV=production/);
  });
});

const pgUp = await postgresAvailable();
describe.skipIf(!pgUp && process.env.REQUIRE_POSTGRES !== '1')('dci on PostgreSQL', () => {
  const name = `opendci_cli_${process.pid}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('migrates, then loads generated data', async () => {
    const env = { DATABASE_URL: url.toString() };
    const migrated = await dci(['migrate', '--json'], env);
    expect(migrated.code).toBe(0);
    const { applied } = JSON.parse(migrated.stdout) as { applied: string[] };
    expect(applied.slice(0, 2)).toEqual(['0001_registry', '0002_protocol']);
    expect(applied.at(-1)).toBe(LATEST_MIGRATION);
    const loaded = await dci(['registry', 'generate', '--households', '25', '--seed', '3', '--json'], env);
    expect(loaded.code).toBe(0);
    expect(JSON.parse(loaded.stdout)).toMatchObject({ failed: 0 });
  }, 60_000);
});
