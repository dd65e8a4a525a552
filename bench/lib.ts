/** Shared helpers of the benchmarks: machine description and docs/performance.md sections. */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

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
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  const next =
    from >= 0 && to > from ? doc.slice(0, from) + block + doc.slice(to + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(performanceDoc, next);
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
