/**
 * npm run bench:import — loading the registry.
 *  1. 250,000 generated households (≈ 1,000,000 individuals) into a fresh PostgreSQL database;
 *  2. 25,000 households (≈ 100,000 individuals) into a fresh PGlite data dir;
 *  3. cold `dci serve --demo` on an empty data dir until /ready answers.
 * Indexes are in place (the migrations create them before loading). Results go to
 * docs/performance.md. BENCH_PG_HOUSEHOLDS / BENCH_PGLITE_HOUSEHOLDS change the sizes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { importFile, migrateToLatest, openDatabase, type Database } from '../packages/server/src/index.js';
import { freshPostgresDatabase, generatedDataFile, machine, root, seconds, writeSection } from './lib.js';

const PG_HOUSEHOLDS = Number(process.env.BENCH_PG_HOUSEHOLDS ?? 250_000);
const PGLITE_HOUSEHOLDS = Number(process.env.BENCH_PGLITE_HOUSEHOLDS ?? 25_000);
const SEED = 'bench';
const dataFile = (households: number) => generatedDataFile(households, SEED);

async function counts(database: Database): Promise<Record<string, number>> {
  const tables = [
    'individual',
    'household',
    'membership',
    'identifier',
    'enrollment',
    'benefit',
    'disability',
    'vital_event',
    'farm',
    'consent',
    'registry_event',
  ];
  const out: Record<string, number> = {};
  for (const t of tables) {
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(t)}`.execute(database.db);
    out[t] = Number(rows[0]!.n);
  }
  return out;
}

interface LoadResult {
  backend: string;
  households: number;
  individuals: number;
  rowsWritten: number;
  ms: number;
  failed: number;
  fileMb: number;
}

async function load(database: Database, backend: string, file: string, households: number): Promise<LoadResult> {
  await migrateToLatest(database.db);
  const started = Date.now();
  const report = await importFile(database, file, {
    onProgress: ({ rows }) => process.stderr.write(`\r${backend}: ${rows} records`),
  });
  const ms = Date.now() - started;
  process.stderr.write('\n');
  const c = await counts(database);
  const rowsWritten = Object.values(c).reduce((a, b) => a + b, 0);
  console.log(
    `${backend}: ${report.rows} records, ${c.individual} individuals in ${seconds(ms)} s (${report.failed} failed)`,
    c,
  );
  return {
    backend,
    households,
    individuals: c.individual!,
    rowsWritten,
    ms,
    failed: report.failed,
    fileMb: statSync(file).size / 2 ** 20,
  };
}

async function postgresLoad(file: string): Promise<LoadResult> {
  const database = await openDatabase(await freshPostgresDatabase('opendci_bench_import'));
  try {
    return await load(database, 'PostgreSQL', file, PG_HOUSEHOLDS);
  } finally {
    await database.close();
  }
}

async function pgliteLoad(file: string): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'opendci-bench-'));
  const database = await openDatabase(`pglite:${dir}`);
  try {
    return await load(database, 'PGlite', file, PGLITE_HOUSEHOLDS);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function coldStart(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'opendci-cold-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const started = Date.now();
  const child = spawn(process.execPath, [join(root, 'packages/cli/bin/dci.js'), 'serve', '--demo'], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: `pglite:${join(dir, 'store')}`, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error('the server exited before it was ready');
      try {
        const res = await fetch(`http://127.0.0.1:${port}/ready`);
        if (res.ok) return Date.now() - started;
      } catch {
        /* not listening yet */
      }
      if (Date.now() - started > 180_000) throw new Error('not ready after 180 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const pgFile = await dataFile(PG_HOUSEHOLDS);
console.log(`generated ${pgFile.individuals} individuals in ${seconds(pgFile.ms)} s: ${pgFile.path}`);
const pgliteFile = await dataFile(PGLITE_HOUSEHOLDS);
const results = [await postgresLoad(pgFile.path), await pgliteLoad(pgliteFile.path)];
if (!existsSync(join(root, 'packages/cli/dist/main.js'))) throw new Error('build first (npm run build)');
const cold = await coldStart();
console.log(`cold start to /ready: ${seconds(cold)} s`);

const rows = results
  .map((r) => {
    const s = r.ms / 1000;
    return `| ${r.backend} | ${r.households.toLocaleString('en')} | ${r.individuals.toLocaleString('en')} | ${r.fileMb.toFixed(0)} MB | ${r.rowsWritten.toLocaleString('en')} | ${seconds(r.ms)} s | **${Math.round(r.individuals / s).toLocaleString('en')}** | ${Math.round(r.rowsWritten / s).toLocaleString('en')} | ${r.failed} |`;
  })
  .join('\n');
writeSection(
  'bench:import',
  `## Import (\`npm run bench:import\`)

Machine: ${machine()}.

Command: \`npm run bench:import\` — generates NDJSON with \`dci registry generate\`'s generator (seed \`${SEED}\`), then
\`importFile()\` (the code behind \`dci registry import\`) into a freshly migrated store, indexes in place. "Rows written"
counts every table row the import created (individuals, households, memberships, identifiers, enrollments, benefits,
disabilities, vital events, farms, consents, registry events).

| store | households | individuals | file | rows written | wall time | individuals/s | rows/s | failed rows |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows}

Generating the ${PG_HOUSEHOLDS.toLocaleString('en')}-household file took ${seconds(pgFile.ms)} s.

Cold start — \`dci serve --demo\` (what \`npm start\` runs) on an empty data dir, until \`/ready\` answers 200, including
PGlite's first initdb, migrations, pg-boss schema and the 2,000-household demo load: **${seconds(cold)} s**.`,
);
