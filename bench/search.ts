/**
 * npm run bench -- search — search throughput and latency of the real server, on PostgreSQL
 * (250,000 generated households ≈ 1,000,000 individuals) and on PGlite (25,000 ≈ 100,000), in one
 * run. Per store:
 *  (a) the ceilings: a bare Fastify JSON echo route (measured once, the store plays no part); a
 *      bare lookup route (the same idtype-value search and record load with the server's own code,
 *      no auth, validation, signing or audit); the crypto ceiling (one Ed25519 verify of the
 *      request plus one sign of the answer per op, one core);
 *  (b) signed sync idtype-value search, 16 connections; (c) the same unsigned (policy optional);
 *  (d) expression search (sex + a birth-date window ≈ 1 % of individuals, sorted by birth date,
 *      page of 10, total_count), 16 connections;
 *  (e) async idtype-value search, 50 connections for 30 s, callbacks to a local receiver.
 * The server (`dci serve`, built) and the bare apps run pinned to core 0, every load generator
 * (autocannon) in its own process pinned to core 1. Results go to docs/performance.md (section
 * bench:search) and stdout; non-2xx answers, socket errors or wrong answers fail the run (exit 1,
 * nothing written).
 *
 * Environment: BENCH_HOUSEHOLDS_PG (250000), BENCH_HOUSEHOLDS_PGLITE (25000), BENCH_DURATION
 * (15 s per run; also (e) when BENCH_ASYNC_DURATION is not set), BENCH_ASYNC_DURATION (30 s),
 * BENCH_WARMUP (5 s), BENCH_DRAIN (180 s at most waiting for callbacks after (e); it stops sooner
 * when all arrived or none came for 20 s), BENCH_BUILD=0 (skip the `tsc -b` that otherwise runs
 * first: only when dist/ is known to match the sources, since the store is migrated from the
 * sources and served from dist/), BENCH_KEEP=1 (keep the PostgreSQL database
 * opendci_bench_search afterwards; it is dropped otherwise, also on Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type RawBuilder } from 'kysely';
import { format, resolveConfig } from 'prettier';
import { jwkThumbprint } from '../packages/protocol/src/index.js';
import { importFile, migrateToLatest, openDatabase } from '../packages/server/src/index.js';
import type { AsyncResult, AsyncSpec } from './load/async.js';
import type { CryptoResult, CryptoSpec } from './load/crypto.js';
import {
  expressionCriteria,
  idtypeCriteria,
  PAGE_SIZE,
  searchBody,
  type ExpressionWindow,
  type LoadResult,
  type Sender,
} from './load/messages.js';
import type { SyncSpec } from './load/sync.js';
import {
  canPin,
  envNumber,
  dropPostgresDatabase,
  freshPostgresDatabase,
  generatedDataFile,
  installChildCleanup,
  machine,
  performanceDoc,
  pinned,
  root,
  seconds,
  spawnTracked,
  startPinned,
  stopPinned,
  type Running,
  writeSection,
} from './lib.js';

const int = (name: string, fallback: number): number => envNumber(name, fallback);
const PG_HOUSEHOLDS = int('BENCH_HOUSEHOLDS_PG', 250_000);
const PGLITE_HOUSEHOLDS = int('BENCH_HOUSEHOLDS_PGLITE', 25_000);
const DURATION = int('BENCH_DURATION', 15);
const ASYNC_DURATION = int('BENCH_ASYNC_DURATION', process.env.BENCH_DURATION ? DURATION : 30);
const WARMUP = int('BENCH_WARMUP', Math.min(5, DURATION));
const DRAIN = int('BENCH_DRAIN', 180);
const IDLE = 20;
const CONNECTIONS = 16;
const ASYNC_CONNECTIONS = 50;
const SEED = 'bench';
const PG_DATABASE = 'opendci_bench_search';
const UIN_SAMPLE = 1000;
/** Expression windows: this share of all individuals each, at these quantiles of one sex's birth dates. */
const WINDOW_SHARE = 0.01;
const WINDOW_AT = [0.2, 0.5, 0.8];

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const dci = join(root, 'packages/cli/bin/dci.js');
const SERVER_CORE = 0;
const LOAD_CORE = 1;

let createdPostgres = false;
installChildCleanup(async () => {
  if (createdPostgres && process.env.BENCH_KEEP !== '1') await dropPostgresDatabase(PG_DATABASE);
});
const work = mkdtempSync(join(tmpdir(), 'opendci-bench-search-'));
// Also on SIGINT/SIGTERM (process.exit skips the finally below); children are killed first.
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const secret = randomBytes(18).toString('hex');
const keys = generateKeyPairSync('ed25519');
const kid = jwkThumbprint(keys.publicKey);
const publicKeyFile = join(work, 'bench-signed.pub.pem');
writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const SIGNED = 'bench-signed';
const UNSIGNED = 'bench-unsigned';
const failures: string[] = [];
/** The 1-minute load average when the run started: how quiet the machine was. */
const startLoad = loadavg()[0]!;

// ---------------------------------------------------------------------------------------------
// Processes

/** Runs a bench/load script pinned to `core`; resolves with the JSON it prints. */
function runScript<T>(core: number, script: string, env: Record<string, string>): Promise<T> {
  const [command, args] = pinned(core, process.execPath, ['--import', 'tsx', here(script)]);
  const child = spawnTracked(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code ?? signal}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (error) {
        reject(new Error(`${script} printed no result: ${String(error)}`));
      }
    });
  });
}

/** Starts a long-running process pinned to the server core, its output in .bench/search-<name>.log. */
const startServerCore = (name: string, args: string[], env: Record<string, string>): Promise<Running> =>
  startPinned(SERVER_CORE, `search-${name}`, args, env);

function cli(databaseUrl: string, args: string[]): void {
  const run = spawnSync(process.execPath, [dci, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`dci ${args.slice(0, 2).join(' ')} failed: ${run.stderr || run.stdout}`);
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Notes a failed run: reported at the end, exit 1, the section is not written. */
function check(label: string, result: LoadResult): LoadResult {
  const line = `${label}: ${result.rps} req/s, p50 ${result.p50} ms, p95 ${result.p95} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`;
  console.log(line);
  if (result.non2xx > 0 || result.errors > 0 || result.responses === 0) {
    failures.push(
      `${label}: ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodes)}), ${result.errors} errors`,
    );
  }
  return result;
}

function fail(message: string): never {
  throw new Error(message);
}

interface SearchAnswer {
  header: Record<string, unknown>;
  message: {
    search_response: {
      status: string;
      status_reason_message?: string;
      data?: { reg_records: unknown[] };
      pagination?: { total_count?: number };
    }[];
  };
}

async function post(url: string, body: string, token?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* kept as text */
  }
  return { status: res.status, json };
}

async function searchOnce(url: string, token: string, sender: Sender, criteria: unknown): Promise<SearchAnswer> {
  const { status, json } = await post(url, searchBody(sender, criteria as never), token);
  if (status !== 200) fail(`${url} answered ${status}: ${JSON.stringify(json).slice(0, 500)}`);
  const answer = json as SearchAnswer;
  const item = answer.message?.search_response?.[0];
  if (item?.status !== 'succ') fail(`search item not succ: ${JSON.stringify(item).slice(0, 500)}`);
  return answer;
}

async function token(base: string, id: string): Promise<string> {
  const res = await fetch(`${base}/oauth2/client/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) fail(`token for ${id}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

// ---------------------------------------------------------------------------------------------
// Data

interface Store {
  name: 'PostgreSQL' | 'PGlite';
  slug: string;
  households: number;
}

interface Prepared {
  url: string;
  individuals: number;
  importSeconds: number;
  values: string[];
  windows: ExpressionWindow[];
}

async function prepare(store: Store): Promise<Prepared> {
  const url =
    store.slug === 'postgres' ? await freshPostgresDatabase(PG_DATABASE) : `pglite:${join(work, 'pglite-store')}`;
  const file = await generatedDataFile(store.households, SEED);
  console.log(`${store.name}: generated ${file.individuals} individuals in ${seconds(file.ms)} s`);
  const database = await openDatabase(url);
  try {
    await migrateToLatest(database.db);
    const started = Date.now();
    const report = await importFile(database, file.path, {
      onProgress: ({ rows }) => process.stderr.write(`\r${store.name}: ${rows} records`),
    });
    process.stderr.write('\n');
    if (report.failed > 0) fail(`${store.name}: ${report.failed} rows failed to import`);
    const importSeconds = (Date.now() - started) / 1000;
    await sql`vacuum analyze`.execute(database.db);
    const count = async (query: RawBuilder<{ n: string }>) => Number((await query.execute(database.db)).rows[0]!.n);
    const individuals = await count(sql<{ n: string }>`select count(*)::text as n from individual`);
    const values = (
      await sql<{ v: string }>`select id_value as v from identifier
        where id_type = 'UIN' and entity_type = 'individual' order by md5(id_value) limit ${UIN_SAMPLE}`.execute(
        database.db,
      )
    ).rows.map((r) => r.v);
    if (values.length === 0) fail(`${store.name}: no UIN in the data`);
    const windows: ExpressionWindow[] = [];
    for (const sex of ['female', 'male']) {
      const ofSex = await count(
        sql<{ n: string }>`select count(*)::text as n from individual where sex = ${sex} and birth_date is not null`,
      );
      const width = (WINDOW_SHARE * individuals) / ofSex;
      for (const at of WINDOW_AT) {
        const { rows } = await sql<{ lo: string; hi: string }>`select
            (percentile_disc(${at}::float8) within group (order by birth_date))::text as lo,
            (percentile_disc(${Math.min(1, at + width)}::float8) within group (order by birth_date))::text as hi
          from individual where sex = ${sex} and birth_date is not null`.execute(database.db);
        const { lo, hi } = rows[0]!;
        const matches = await count(sql<{ n: string }>`select count(*)::text as n from individual
          where sex = ${sex} and birth_date >= ${lo}::date and birth_date < ${hi}::date`);
        if (matches > 0) windows.push({ sex, from: lo, to: hi, matches });
      }
    }
    if (windows.length === 0) fail(`${store.name}: no expression window matches anything`);
    for (const w of windows) {
      console.log(
        `${store.name}: expression sex = ${w.sex} and ${w.from} <= birth_date < ${w.to}: ${w.matches} matches (${pct(w.matches / individuals, 2)} of ${individuals})`,
      );
    }
    return { url, individuals, importSeconds, values, windows };
  } finally {
    await database.close();
  }
}

const pct = (ratio: number, digits = 0) => `${(ratio * 100).toFixed(digits)} %`;

// ---------------------------------------------------------------------------------------------
// Runs

interface StoreResult {
  store: Store;
  prepared: Prepared;
  lookup: LoadResult;
  crypto: CryptoResult;
  signed: LoadResult;
  unsigned: LoadResult;
  expression: LoadResult;
  async: AsyncResult;
}

const signer = { kid, privateKeyPem };
const syncLoad = (spec: SyncSpec) =>
  runScript<LoadResult>(LOAD_CORE, './load/sync.ts', { LOAD_SPEC: JSON.stringify(spec) });

async function echoCeiling(values: string[]): Promise<LoadResult> {
  const app = await startServerCore('bare-echo', ['--import', 'tsx', here('./bare/echo.ts')], {});
  try {
    const spec: SyncSpec = {
      url: `${app.base}/echo`,
      connections: CONNECTIONS,
      duration: WARMUP,
      senderId: UNSIGNED,
      query: 'idtype',
      values,
    };
    await syncLoad(spec);
    return check('bare echo', await syncLoad({ ...spec, duration: DURATION }));
  } finally {
    await stopPinned(app);
  }
}

async function benchStore(store: Store, prepared: Prepared): Promise<StoreResult> {
  const { url, values, windows } = prepared;
  const label = (what: string) => `${store.name} ${what}`;

  // Senders first: on PGlite the running server holds the data dir.
  cli(url, ['senders', 'add', '--id', SIGNED, '--client-secret', secret, '--public-key-file', publicKeyFile]);
  cli(url, ['senders', 'add', '--id', UNSIGNED, '--client-secret', secret, '--signature-policy', 'optional']);

  // (a) the bare lookup, alone on the store.
  let lookup: LoadResult;
  const bare = await startServerCore(`${store.slug}-bare-lookup`, ['--import', 'tsx', here('./bare/lookup.ts')], {
    DATABASE_URL: url,
  });
  try {
    const probe = await post(`${bare.base}/lookup`, searchBody({ senderId: UNSIGNED }, idtypeCriteria(values[0]!)));
    const records = (probe.json as { records?: unknown[] }).records;
    if (probe.status !== 200 || records?.length !== 1) fail(`bare lookup: ${JSON.stringify(probe.json).slice(0, 300)}`);
    const spec: SyncSpec = {
      url: `${bare.base}/lookup`,
      connections: CONNECTIONS,
      duration: WARMUP,
      senderId: UNSIGNED,
      query: 'idtype',
      values,
    };
    await syncLoad(spec);
    lookup = check(label('bare lookup'), await syncLoad({ ...spec, duration: DURATION }));
  } finally {
    await stopPinned(bare);
  }

  const server = await startServerCore(`${store.slug}-server`, [dci, 'serve'], {
    DATABASE_URL: url,
    LOG_LEVEL: 'warn',
    DCI_ALLOW_INSECURE_CALLBACKS: 'true',
  });
  try {
    const syncUrl = `${server.base}/registry/sync/search`;
    const signedToken = await token(server.base, SIGNED);
    const unsignedToken = await token(server.base, UNSIGNED);
    const signedSender: Sender = { senderId: SIGNED, signer: { kid, privateKey: keys.privateKey } };

    // Answers are right before anything is timed.
    const answer = await searchOnce(syncUrl, signedToken, signedSender, idtypeCriteria(values[0]!));
    const found = answer.message.search_response[0]!.data?.reg_records ?? [];
    if (found.length !== 1 || !JSON.stringify(found).includes(values[0]!)) {
      fail(
        `${label('signed search')}: expected the record of UIN ${values[0]}, got ${JSON.stringify(found).slice(0, 300)}`,
      );
    }
    await searchOnce(syncUrl, unsignedToken, { senderId: UNSIGNED }, idtypeCriteria(values[1] ?? values[0]!));
    for (const window of windows) {
      const item = (await searchOnce(syncUrl, unsignedToken, { senderId: UNSIGNED }, expressionCriteria(window)))
        .message.search_response[0]!;
      const total = item.pagination?.total_count;
      const page = item.data?.reg_records.length ?? 0;
      if (total !== window.matches || page !== Math.min(PAGE_SIZE, window.matches)) {
        fail(`${label('expression')} ${JSON.stringify(window)}: total_count ${total}, ${page} records on the page`);
      }
    }
    console.log(`${store.name}: answers checked (idtype record, expression total_count = SQL count on every window)`);

    // (a) the crypto ceiling, with this answer as the message signed.
    const crypto = await runScript<CryptoResult>(SERVER_CORE, './load/crypto.ts', {
      CRYPTO_SPEC: JSON.stringify({
        seconds: 3,
        value: values[0]!,
        response: { header: answer.header, message: answer.message },
      } satisfies CryptoSpec),
    });
    console.log(
      `${label('crypto ceiling')}: ${crypto.opsPerSecond} verify+sign/s (verify ${crypto.verifyUs} µs of a ${crypto.requestBytes} B request, sign ${crypto.signUs} µs of a ${crypto.responseBytes} B answer)`,
    );

    const idtype = (tokenValue: string, senderId: string, signed: boolean, duration: number): SyncSpec => ({
      url: syncUrl,
      connections: CONNECTIONS,
      duration,
      token: tokenValue,
      senderId,
      ...(signed ? { signer } : {}),
      query: 'idtype',
      values,
    });
    await syncLoad(idtype(unsignedToken, UNSIGNED, false, WARMUP));
    const signed = check(label('(b) signed'), await syncLoad(idtype(signedToken, SIGNED, true, DURATION)));
    const unsigned = check(label('(c) unsigned'), await syncLoad(idtype(unsignedToken, UNSIGNED, false, DURATION)));

    const expressionSpec: SyncSpec = {
      url: syncUrl,
      connections: CONNECTIONS,
      duration: WARMUP,
      token: signedToken,
      senderId: SIGNED,
      signer,
      query: 'expression',
      windows,
    };
    await syncLoad(expressionSpec);
    const expression = check(label('(d) expression'), await syncLoad({ ...expressionSpec, duration: DURATION }));

    const asyncSpec: AsyncSpec = {
      url: `${server.base}/registry/search`,
      connections: ASYNC_CONNECTIONS,
      duration: ASYNC_DURATION,
      token: await token(server.base, SIGNED),
      senderId: SIGNED,
      signer,
      values,
      drainSeconds: DRAIN,
      idleSeconds: IDLE,
    };
    const asyncResult = await runScript<AsyncResult>(LOAD_CORE, './load/async.ts', {
      LOAD_SPEC: JSON.stringify(asyncSpec),
    });
    check(label('(e) async requests'), asyncResult.load);
    console.log(
      `${label('(e) async')}: ${asyncResult.ackPerSecond} ACK/s, ${asyncResult.callbacks} callbacks, ${asyncResult.sustainedPerSecond} callbacks/s sustained over ${asyncResult.callbackSpan} s, ${asyncResult.lost} lost, ${asyncResult.duplicates} duplicates, ${asyncResult.unmatched} unmatched`,
    );
    if (asyncResult.badAnswers > 0 || asyncResult.receiverErrors > 0) {
      failures.push(
        `${label('(e) async')}: ${asyncResult.badAnswers} callbacks without the record, ${asyncResult.receiverErrors} unreadable`,
      );
    }
    return { store, prepared, lookup, crypto, signed, unsigned, expression, async: asyncResult };
  } finally {
    await stopPinned(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const n = (value: number) => Math.round(value).toLocaleString('en');
const ms = (value: number) => `${value} ms`;
const row = (what: string, r: LoadResult) =>
  `| ${what} | **${n(r.rps)}** | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${r.non2xx} |`;

interface Target {
  label: string;
  measured: string;
  goal: string;
  met: boolean;
}

function targets(r: StoreResult): Target[] {
  const postgres = r.store.slug === 'postgres';
  const ofCrypto = r.signed.rps / r.crypto.opsPerSecond;
  const ofLookup = r.unsigned.rps / r.lookup.rps;
  const pgOnly = postgres ? '' : ' (set for PostgreSQL)';
  return [
    {
      label: `(b) signed req/s vs crypto ceiling${pgOnly}`,
      measured: `${n(r.signed.rps)} / ${n(r.crypto.opsPerSecond)} = ${pct(ofCrypto)}`,
      goal: '≥ 40 %',
      met: ofCrypto >= 0.4,
    },
    {
      label: `(b) signed p99${pgOnly}`,
      measured: ms(r.signed.p99),
      goal: '≤ 50 ms',
      met: r.signed.p99 <= 50,
    },
    {
      label: '(c) unsigned req/s vs bare lookup',
      measured: `${n(r.unsigned.rps)} / ${n(r.lookup.rps)} = ${pct(ofLookup)}`,
      goal: '≥ 60 %',
      met: ofLookup >= 0.6,
    },
    {
      label: `(d) expression p95${pgOnly}`,
      measured: ms(r.expression.p95),
      goal: '≤ 100 ms',
      met: r.expression.p95 <= 100,
    },
    {
      label: '(e) sustained callbacks/s',
      measured: n(r.async.sustainedPerSecond),
      goal: '≥ 300/s',
      met: r.async.sustainedPerSecond >= 300,
    },
  ];
}

function storeSection(r: StoreResult): string {
  const { prepared: p, async: a } = r;
  const avgMatches = p.windows.reduce((s, w) => s + w.matches, 0) / p.windows.length;
  const t = targets(r);
  return `### ${r.store.name}: ${n(r.store.households)} households, ${n(p.individuals)} individuals

Imported in ${p.importSeconds.toFixed(1)} s, then \`vacuum analyze\`. Expression windows: ${p.windows.length}
(female and male, birth dates at the ${WINDOW_AT.map((q) => `${q * 100}th`).join(', ')} percentile), ${n(Math.min(...p.windows.map((w) => w.matches)))}–${n(Math.max(...p.windows.map((w) => w.matches)))}
matches each (mean ${pct(avgMatches / p.individuals, 2)} of individuals), counted with SQL; every window's \`total_count\` was checked against that count before the run.

| run (${CONNECTIONS} connections, ${DURATION} s) | req/s | p50 | p95 | p99 | non-2xx |
| --- | --- | --- | --- | --- | --- |
${row('(a) bare lookup (same search + record load, no auth/validation/signing/audit)', r.lookup)}
${row('(b) idtype-value, signed request (verified), signed answer', r.signed)}
${row('(c) idtype-value, unsigned request (policy optional), signed answer', r.unsigned)}
${row('(d) expression: sex + birth-date window, sort birth_date, page 10, total_count (signed)', r.expression)}

(a) Crypto ceiling: **${n(r.crypto.opsPerSecond)} verify+sign/s** on one core, each an Ed25519 verify of a ${n(r.crypto.requestBytes)} B
signed request (${r.crypto.verifyUs} µs) and an Ed25519 sign of a ${n(r.crypto.responseBytes)} B answer of this store (${r.crypto.signUs} µs), JCS digests
included, for 3 s in a process pinned to the server's core.

(e) async idtype-value search, signed requests, ${ASYNC_CONNECTIONS} connections for ${a.load.seconds.toFixed(0)} s, callbacks to a receiver in the load process:

| ACK/s | ACK p50 / p99 | ACKed | callbacks | during the load | sustained (first → last) | drain after the load | request → callback p50 / p95 / p99 | lost | duplicates | non-2xx |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| ${n(a.ackPerSecond)} | ${ms(a.load.p50)} / ${ms(a.load.p99)} | ${n(a.acked)} | ${n(a.callbacks)} | ${n(a.duringLoadPerSecond)}/s | **${n(a.sustainedPerSecond)}/s** over ${a.callbackSpan} s | ${a.drainSeconds} s | ${ms(a.callbackLatency.p50)} / ${ms(a.callbackLatency.p95)} / ${ms(a.callbackLatency.p99)} | ${a.lost} | ${a.duplicates} | ${a.load.non2xx} |

${a.unmatched > 0 ? `${a.unmatched} callbacks answered requests that were in flight when the load stopped (their ACK was not read); not counted as ACKed.\n\n` : ''}| target | measured | goal | met |
| --- | --- | --- | --- |
${t.map((x) => `| ${x.label} | ${x.measured} | ${x.goal} | ${x.met ? 'yes' : '**no**'} |`).join('\n')}`;
}

function command(): string {
  const set = [
    'BENCH_HOUSEHOLDS_PG',
    'BENCH_HOUSEHOLDS_PGLITE',
    'BENCH_DURATION',
    'BENCH_ASYNC_DURATION',
    'BENCH_WARMUP',
    'BENCH_DRAIN',
  ]
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`);
  return [...set, 'npm run bench -- search'].join(' ');
}

function report(echo: LoadResult, results: StoreResult[]): string {
  return `## Search (\`npm run bench -- search\`)

Machine: ${machine()}; 1-minute load average ${startLoad.toFixed(2)} when the run started.

Command: \`${command()}\`. Data: \`dci registry generate\`'s generator, seed \`${SEED}\`: ${results
    .map((r) => `${n(r.store.households)} households (${n(r.prepared.individuals)} individuals) in ${r.store.name}`)
    .join(', ')}, loaded into a fresh store in the same run.
The server is the built \`dci serve\` (\`LOG_LEVEL=warn\`, defaults otherwise: audit on, answers signed with Ed25519)
${canPin() ? 'pinned to core 0 (`taskset -c 0`)' : '**not pinned** (no `taskset` or one core)'}; the bare apps too. Every load is autocannon 9 in its own
process${canPin() ? ' pinned to core 1 (`taskset -c 1`)' : ''}, making every request there: a fresh \`message_id\` and \`transaction_id\`, and for a
signed run a fresh Ed25519 signature. idtype-value searches go through ${n(results[0]?.prepared.values.length ?? 0)} real UINs in turn.
Each store: a ${WARMUP} s warm-up before the bare lookup, before (b) and before (d). Latencies are over every 2xx response
(nearest rank), not autocannon's histogram. PostgreSQL itself runs on whichever core is free.

(a) Bare Fastify JSON echo (POST /echo of the same unsigned search envelope), the HTTP ceiling, measured once:

| run (${CONNECTIONS} connections, ${DURATION} s) | req/s | p50 | p95 | p99 | non-2xx |
| --- | --- | --- | --- | --- | --- |
${row('(a) bare echo', echo)}

${results.map(storeSection).join('\n\n')}

"Met" is computed from the figures above. The output of each server and bare app is in \`.bench/search-*.log\`.`;
}

// ---------------------------------------------------------------------------------------------
// Main

const stores: Store[] = [
  { name: 'PostgreSQL', slug: 'postgres', households: PG_HOUSEHOLDS },
  { name: 'PGlite', slug: 'pglite', households: PGLITE_HOUSEHOLDS },
];
let exitCode = 0;
try {
  if (process.env.BENCH_BUILD !== '0') {
    console.log('building (tsc -b) …');
    const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (build.status !== 0) fail('the build failed');
  }
  if (!canPin()) console.warn('taskset is missing or the machine has one core: nothing is pinned');
  if (startLoad > 0.5)
    console.warn(`load average ${startLoad.toFixed(2)}: the machine is not quiet, figures will be low`);
  const results: StoreResult[] = [];
  let echo: LoadResult | undefined;
  for (const store of stores) {
    console.log(`\n--- ${store.name}: ${store.households} households ---`);
    createdPostgres ||= store.slug === 'postgres';
    const prepared = await prepare(store);
    echo ??= await echoCeiling(prepared.values);
    results.push(await benchStore(store, prepared));
  }
  // Formatted as `prettier --write` would (the doc is checked by `npm run lint`).
  const body = await format(report(echo!, results), {
    ...(await resolveConfig(performanceDoc)),
    parser: 'markdown',
  });
  console.log(`\n${body}`);
  if (failures.length > 0) {
    console.error(`FAILED — docs/performance.md not written:\n  ${failures.join('\n  ')}`);
    exitCode = 1;
  } else {
    writeSection('bench:search', body);
    console.log('written to docs/performance.md (section bench:search)');
  }
} catch (error) {
  console.error(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (failures.length > 0) console.error(`  ${failures.join('\n  ')}`);
  exitCode = 1;
} finally {
  if (createdPostgres && process.env.BENCH_KEEP !== '1') {
    await dropPostgresDatabase(PG_DATABASE).catch((error: unknown) =>
      console.warn(`could not drop ${PG_DATABASE}: ${String(error)}`),
    );
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
