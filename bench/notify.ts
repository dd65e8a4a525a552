/**
 * npm run bench -- notify — subscription notifications delivered by the real server over HTTP, on
 * PostgreSQL. Two runs, each on a fresh database with a freshly started server:
 *  1. steady: BENCH_NOTIFY_SUBSCRIPTIONS (10) subscriptions (`REGISTER`, `Member`, an expression
 *     filter every imported person matches), then BENCH_NOTIFY_CHANGES (10,000) new individuals
 *     imported with `dci registry import` (in up to 10 files, one after the other) while the server
 *     runs: changes × subscriptions events (100,000). Timed from the start of the first import to
 *     the last event delivered: wall time, events/s, lost, duplicates, out of order;
 *  2. the same with receiver r0 answering 503 for BENCH_NOTIFY_OUTAGE (60) s, from its second
 *     message on (a few seconds into the import): the retries must bridge the outage (backoff
 *     capped below it, the suspension threshold far above it) and deliver r0's backlog, in order.
 * The server (`dci serve`, built, role all) runs pinned to core 0; the receivers (one HTTP server,
 * path /r{i}/notify per subscription, 200 ACK) are this script in receiver mode, in a process
 * pinned to core 1, where the imports run too. Results go to docs/performance.md (section
 * bench:notify) and stdout; exit 1 when an event is lost (the section is still written, with the
 * target not met) or the run fails (nothing written).
 *
 * Environment: BENCH_NOTIFY_CHANGES (10000), BENCH_NOTIFY_SUBSCRIPTIONS (10), BENCH_NOTIFY_OUTAGE
 * (60 s), BENCH_BUILD=0 (skip the `tsc -b` that otherwise runs first: only when dist/ matches the
 * sources), BENCH_KEEP=1 (keep the database opendci_bench_notify of the last run; it is dropped
 * otherwise, also on Ctrl-C).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';
import { ack, requestHeader, subscribeRequestMessage, type SubscribeCriteria } from '../packages/protocol/src/index.js';
import {
  canPin,
  envNumber,
  dropPostgresDatabase,
  freshPostgresDatabase,
  installChildCleanup,
  machine,
  performanceDoc,
  pinned,
  root,
  spawnTracked,
  startPinned,
  stopPinned,
  type Running,
  stopChild,
  writeSection,
} from './lib.js';

const int = (name: string, fallback: number): number => envNumber(name, fallback, { integer: true });
const CHANGES = int('BENCH_NOTIFY_CHANGES', 10_000);
const SUBSCRIPTIONS = int('BENCH_NOTIFY_SUBSCRIPTIONS', 10);
const OUTAGE = int('BENCH_NOTIFY_OUTAGE', 60);
/** Import files per run, imported one after the other (each one `dci registry import`). */
const FILES = Math.min(10, CHANGES);
/** The server's retry settings: backoff 1, 2, 4, 8, then every 10 s; 30 retries before suspension. */
const RETRY = { delay: 1, delayMax: 10, limit: 30 };
const EVENTS_PER_MESSAGE = 100;
const TARGET_EVENTS_PER_SECOND = 1000;
/** After the last expected event: how long to go on listening for duplicates. */
const SETTLE_MS = 5_000;
/** Give up when nothing new arrived for this long (after the import and any outage). */
const IDLE_MS = 30_000 + RETRY.delayMax * 2_000;
const DATABASE = 'opendci_bench_notify';
const SENDER = 'bench-notify';
/** Every imported person has it; every subscription's filter asks for it. */
const GIVEN_NAME = 'Notifybench';
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const OUTAGE_PATH = 'r0';

const self = fileURLToPath(import.meta.url);
const dci = join(root, 'packages/cli/bin/dci.js');

// ---------------------------------------------------------------------------------------------
// The receivers (this script with BENCH_NOTIFY_RECEIVER=1, in a process of its own)

interface ReceiverSetup {
  /** UINs of the run: prefix + 6 digits, 0 … count-1. */
  prefix: string;
  count: number;
  /** Receiver names (`r0` …): POSTs to /NAME/on-subscribe and /NAME/notify. */
  paths: string[];
}

interface ReceiverArm {
  /** Receiver name → the subscription code it expects in `header.meta.subscription_code`. */
  codes: Record<string, string>;
  /** `path` answers 503 for `ms`, from its second notify message on. */
  outage?: { path: string; ms: number };
}

interface PathReport {
  path: string;
  /** Distinct (subscription, person) events taken (answered 200). */
  delivered: number;
  lost: number;
  /** Distinct message_ids taken. */
  messages: number;
  /** Extra 200-answered receipts of a message_id. */
  duplicateMessages: number;
  /** Extra 200-answered receipts of an event (in any message). */
  duplicateEvents: number;
  /** New events that came after an event imported later. */
  outOfOrder: number;
  /** Attempts answered 503 (the outage), at these times (ms since the epoch). */
  refusedAt: number[];
  /** message_ids answered 503 that never came again to be taken. */
  refusedNeverTaken: number;
  firstAt: number;
  lastAt: number;
  /** The outage receiver: when it took its first message after the outage (0: none). */
  resumedAt: number;
}

interface ReceiverReport {
  paths: PathReport[];
  /** Events of no person of this run, or notify posts to no receiver of it. */
  unexpected: number;
  /** Messages not as the protocol says (action, subscription code, event type); the first 20. */
  problems: string[];
  outage: { from: number; until: number } | null;
}

interface Progress {
  delivered: number;
  lastAt: number;
  outage: { from: number; until: number } | null;
}

class PathState {
  readonly arrival: Float64Array;
  delivered = 0;
  maxSeq = -1;
  outOfOrder = 0;
  duplicateEvents = 0;
  duplicateMessages = 0;
  readonly taken = new Map<string, number>();
  readonly refusedAt: number[] = [];
  readonly refusedIds = new Set<string>();
  firstAt = 0;
  lastAt = 0;
  resumedAt = 0;
  constructor(count: number) {
    this.arrival = new Float64Array(count);
  }
}

interface NotifyBody {
  header?: { message_id?: string; action?: string; meta?: { subscription_code?: string } };
  message?: {
    correlation_id?: string;
    notify_event?: {
      data?: { reg_event_type?: string; reg_record_type?: string; reg_records?: Record<string, unknown> };
    }[];
  };
}

type Identifier = { identifier_type?: string; identifier_value?: string };

function uinOf(record: Record<string, unknown> | undefined): string | undefined {
  const ids =
    (record?.member_identifier as Identifier[] | undefined) ??
    ((record?.demographic_info as Record<string, unknown> | undefined)?.identifier as Identifier[] | undefined);
  return ids?.find((id) => id.identifier_type === 'UIN')?.identifier_value;
}

async function receiverMain(): Promise<void> {
  let setup: ReceiverSetup | undefined;
  let arm: ReceiverArm = { codes: {} };
  let states = new Map<string, PathState>();
  let subscribed: Record<string, unknown> = {};
  let unexpected = 0;
  let problems: string[] = [];
  let outage: { from: number; until: number } | null = null;
  const problem = (text: string) => {
    if (problems.length < 20) problems.push(text);
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const ok = (res: ServerResponse, correlationId?: string) =>
    send(res, 200, ack({ correlationId: correlationId ?? randomUUID() }));

  const notify = (name: string, text: string, now: number, res: ServerResponse) => {
    const state = states.get(name);
    if (!setup || !state) {
      unexpected++;
      return ok(res);
    }
    const body = JSON.parse(text) as NotifyBody;
    const messageId = body.header?.message_id ?? '';
    if (arm.outage?.path === name) {
      if (!outage && state.taken.size >= 1) outage = { from: now, until: now + arm.outage.ms };
      if (outage && now < outage.until) {
        state.refusedAt.push(now);
        state.refusedIds.add(messageId);
        return send(res, 503, {
          message: {
            ack_status: 'ERR',
            timestamp: new Date(now).toISOString(),
            correlation_id: body.message?.correlation_id ?? randomUUID(),
            error: { code: 'err.service.unavailable', message: 'the receiver is down (benchmark outage)' },
          },
        });
      }
    }
    if (outage && arm.outage?.path === name && state.resumedAt === 0) state.resumedAt = now;
    if (body.header?.action !== 'notify') problem(`${name}: header.action ${body.header?.action}`);
    const code = body.header?.meta?.subscription_code;
    if (code !== arm.codes[name]) problem(`${name}: subscription_code ${code}, expected ${arm.codes[name]}`);
    const seen = state.taken.get(messageId) ?? 0;
    state.taken.set(messageId, seen + 1);
    if (seen > 0) state.duplicateMessages++;
    for (const event of body.message?.notify_event ?? []) {
      const data = event.data;
      if (data?.reg_event_type !== 'REGISTER' || data.reg_record_type !== 'Member') {
        problem(`${name}: event ${data?.reg_event_type} of ${data?.reg_record_type}`);
      }
      const uin = uinOf(data?.reg_records);
      const seq = uin?.startsWith(setup.prefix) ? Number(uin.slice(setup.prefix.length)) : NaN;
      if (!Number.isInteger(seq) || seq < 0 || seq >= setup.count) {
        unexpected++;
        continue;
      }
      if (state.arrival[seq]! > 0) {
        state.duplicateEvents++;
        continue;
      }
      state.arrival[seq] = now;
      state.delivered++;
      if (seq < state.maxSeq) state.outOfOrder++;
      else state.maxSeq = seq;
    }
    if (state.firstAt === 0) state.firstAt = now;
    state.lastAt = now;
    ok(res, body.message?.correlation_id);
  };

  const report = (): ReceiverReport => ({
    paths: [...states.entries()].map(([path, s]) => ({
      path,
      delivered: s.delivered,
      lost: (setup?.count ?? 0) - s.delivered,
      messages: s.taken.size,
      duplicateMessages: s.duplicateMessages,
      duplicateEvents: s.duplicateEvents,
      outOfOrder: s.outOfOrder,
      refusedAt: s.refusedAt,
      refusedNeverTaken: [...s.refusedIds].filter((id) => !s.taken.has(id)).length,
      firstAt: s.firstAt,
      lastAt: s.lastAt,
      resumedAt: s.resumedAt,
    })),
    unexpected,
    problems,
    outage,
  });

  const handle = (req: IncomingMessage, res: ServerResponse, text: string, now: number) => {
    const path = (req.url ?? '').split('?')[0]!;
    const [, name, action] = path.split('/');
    if (name === 'control') {
      if (action === 'setup') {
        setup = JSON.parse(text) as ReceiverSetup;
        arm = { codes: {} };
        states = new Map(setup.paths.map((p) => [p, new PathState(setup!.count)]));
        subscribed = {};
        unexpected = 0;
        problems = [];
        outage = null;
        return send(res, 200, {});
      }
      if (action === 'arm') {
        arm = JSON.parse(text) as ReceiverArm;
        return send(res, 200, {});
      }
      if (action === 'subscribed') return send(res, 200, subscribed);
      if (action === 'progress') {
        let delivered = 0;
        let lastAt = 0;
        for (const s of states.values()) {
          delivered += s.delivered;
          lastAt = Math.max(lastAt, s.lastAt);
        }
        return send(res, 200, { delivered, lastAt, outage } satisfies Progress);
      }
      if (action === 'report') return send(res, 200, report());
      return send(res, 404, {});
    }
    if (action === 'on-subscribe' && name) {
      const body = JSON.parse(text) as { message?: { correlation_id?: string } };
      subscribed[name] = body;
      return ok(res, body.message?.correlation_id);
    }
    if (action === 'notify' && name) return notify(name, text, now, res);
    unexpected++;
    return send(res, 404, {});
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const now = Date.now();
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'), now);
      } catch (error) {
        problem(`${req.url}: ${String(error)}`);
        send(res, 400, {});
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Orphaned (the benchmark was killed without a chance to stop us): go.
  setInterval(() => {
    if (process.ppid === 1) process.exit(0);
  }, 2_000).unref();
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Processes

function startServer(url: string, name: string): Promise<Running> {
  return startPinned(SERVER_CORE, `notify-${name}-server`, [dci, 'serve'], { ...serverEnv(), DATABASE_URL: url });
}

function serverEnv(): Record<string, string> {
  return {
    LOG_LEVEL: 'warn',
    DCI_ALLOW_INSECURE_CALLBACKS: 'true',
    DCI_CALLBACK_RETRY_DELAY: String(RETRY.delay),
    DCI_CALLBACK_RETRY_DELAY_MAX: String(RETRY.delayMax),
    DCI_CALLBACK_RETRY_LIMIT: String(RETRY.limit),
    DCI_NOTIFY_EVENTS_PER_MESSAGE: String(EVENTS_PER_MESSAGE),
  };
}

async function startReceiver(): Promise<{ base: string; child: ChildProcess }> {
  const [command, args] = pinned(LOAD_CORE, process.execPath, ['--import', 'tsx', self]);
  const child = spawnTracked(command, args, {
    env: { ...process.env, BENCH_NOTIFY_RECEIVER: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`the receiver exited (${code ?? signal})`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { base: `http://127.0.0.1:${port}`, child };
}

function cli(databaseUrl: string, args: string[]): void {
  const run = spawnSync(process.execPath, [dci, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`dci ${args.slice(0, 2).join(' ')} failed: ${run.stderr || run.stdout}`);
}

/** `dci registry import FILE --json` pinned to the load core; checks every row was inserted. */
async function importRows(databaseUrl: string, file: string, rows: number): Promise<void> {
  const [command, args] = pinned(LOAD_CORE, process.execPath, [dci, 'registry', 'import', file, '--json']);
  const child = spawnTracked(command, args, {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`dci registry import ${file} exited ${code}: ${err || out}`);
  const report = JSON.parse(out) as { rows: number; inserted: number; failed: number };
  if (report.inserted !== rows || report.failed !== 0) {
    throw new Error(`dci registry import ${file}: ${JSON.stringify(report).slice(0, 500)} (expected ${rows} inserted)`);
  }
}

/** CPU seconds (user + system) of a process so far, from /proc; undefined where there is none. */
let clockTicks: number | undefined;
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
}

async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

async function token(base: string, secret: string): Promise<string> {
  const res = await fetch(`${base}/oauth2/client/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: SENDER, client_secret: secret }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// One run

const FILTER = { given_name: { $eq: GIVEN_NAME } };

interface RunResult {
  name: string;
  outageMs: number;
  expected: number;
  /** ms since the import started */
  importMs: number;
  wallMs: number;
  /** Every expected event arrived (otherwise the wait gave up and the rest is lost). */
  complete: boolean;
  report: ReceiverReport;
  t0: number;
  serverCpu?: number;
  db: { notifications: Record<string, number>; subscriptions: Record<string, number>; maxAttempts: number };
}

type Totals = Pick<
  PathReport,
  'delivered' | 'lost' | 'messages' | 'duplicateMessages' | 'duplicateEvents' | 'outOfOrder'
> & {
  refused: number;
  refusedNeverTaken: number;
};

function totals(report: ReceiverReport): Totals {
  const sum = (f: (p: PathReport) => number) => report.paths.reduce((s, p) => s + f(p), 0);
  return {
    delivered: sum((p) => p.delivered),
    lost: sum((p) => p.lost),
    messages: sum((p) => p.messages),
    duplicateMessages: sum((p) => p.duplicateMessages),
    duplicateEvents: sum((p) => p.duplicateEvents),
    outOfOrder: sum((p) => p.outOfOrder),
    refused: sum((p) => p.refusedAt.length),
    refusedNeverTaken: sum((p) => p.refusedNeverTaken),
  };
}

function writeImportFiles(dir: string, prefix: string): { path: string; rows: number }[] {
  const files: { path: string; rows: number }[] = [];
  const sexes = ['female', 'male'];
  for (let f = 0; f < FILES; f++) {
    const from = Math.floor((f * CHANGES) / FILES);
    const to = Math.floor(((f + 1) * CHANGES) / FILES);
    const lines: string[] = [];
    for (let seq = from; seq < to; seq++) {
      lines.push(
        JSON.stringify({
          type: 'individual',
          identifiers: [{ type: 'UIN', value: `${prefix}${String(seq).padStart(6, '0')}` }],
          given_name: GIVEN_NAME,
          surname: `S${seq}`,
          sex: sexes[seq % sexes.length],
        }),
      );
    }
    const path = join(dir, `${prefix}${f}.ndjson`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    files.push({ path, rows: to - from });
  }
  return files;
}

async function databaseFigures(url: string): Promise<RunResult['db']> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const group = async (table: string) =>
      Object.fromEntries(
        (
          await client.query<{ status: string; n: number }>(
            `select status, count(*)::int as n from ${table} group by 1`,
          )
        ).rows.map((r) => [r.status, r.n]),
      );
    const max = await client.query<{ n: number | null }>('select max(attempts)::int as n from notification');
    return {
      notifications: await group('notification'),
      subscriptions: await group('subscription'),
      maxAttempts: max.rows[0]?.n ?? 0,
    };
  } finally {
    await client.end();
  }
}

async function run(
  index: number,
  name: string,
  outageMs: number,
  receiver: string,
  work: string,
  secret: string,
): Promise<RunResult> {
  const url = await freshPostgresDatabase(DATABASE);
  cli(url, [
    'senders',
    'add',
    '--id',
    SENDER,
    '--client-secret',
    secret,
    '--signature-policy',
    'optional',
    '--callback-allow',
    'http://127.0.0.1:*',
  ]);
  const server = await startServer(url, `run${index}`);
  try {
    const prefix = `N${index}-`;
    const paths = Array.from({ length: SUBSCRIPTIONS }, (_, i) => `r${i}`);
    await postJson(`${receiver}/control/setup`, { prefix, count: CHANGES, paths } satisfies ReceiverSetup);
    const bearer = await token(server.base, secret);
    for (const path of paths) {
      const criteria = {
        reg_event_type: 'REGISTER',
        notify_record_type: 'Member',
        filter_type: 'expression',
        filter: FILTER,
      } as SubscribeCriteria;
      const body = {
        signature: 'unsigned',
        header: requestHeader({
          action: 'subscribe',
          senderId: SENDER,
          totalCount: 1,
          senderUri: `${receiver}/${path}/on-subscribe`,
        }),
        message: subscribeRequestMessage({
          transactionId: `bench-notify-${index}-${path}`,
          items: [{ referenceId: `${path}-1`, criteria }],
        }),
      };
      const answer = await postJson(`${server.base}/registry/subscribe`, body, bearer);
      if (answer.status !== 202) throw new Error(`subscribe ${path}: ${answer.status} ${answer.text.slice(0, 500)}`);
    }
    const codes: Record<string, string> = {};
    const deadline = Date.now() + 60_000;
    while (Object.keys(codes).length < paths.length) {
      if (Date.now() > deadline) {
        throw new Error(`on-subscribe came for ${Object.keys(codes).length} of ${paths.length} subscriptions`);
      }
      await sleep(200);
      type OnSubscribe = {
        message?: {
          subscribe_response?: {
            status?: string;
            status_reason_message?: string;
            subscriptions?: { code: string }[];
          }[];
        };
      };
      const got = await getJson<Record<string, OnSubscribe>>(`${receiver}/control/subscribed`);
      for (const [path, callback] of Object.entries(got)) {
        const item = callback.message?.subscribe_response?.[0];
        const code = item?.subscriptions?.[0]?.code;
        if (item?.status !== 'succ' || !code)
          throw new Error(`subscribe ${path}: ${JSON.stringify(item).slice(0, 500)}`);
        codes[path] = code;
      }
    }
    await postJson(`${receiver}/control/arm`, {
      codes,
      ...(outageMs > 0 ? { outage: { path: OUTAGE_PATH, ms: outageMs } } : {}),
    } satisfies ReceiverArm);
    console.log(`${name}: ${paths.length} subscriptions (${Object.values(codes)[0]} …), importing ${CHANGES} people`);

    const files = writeImportFiles(work, prefix);
    const expected = CHANGES * SUBSCRIPTIONS;
    const cpuBefore = cpuSeconds(server.child.pid);
    const t0 = Date.now();
    for (const file of files) await importRows(url, file.path, file.rows);
    const importMs = Date.now() - t0;
    console.log(`${name}: imported in ${(importMs / 1000).toFixed(1)} s`);

    let progress = await getJson<Progress>(`${receiver}/control/progress`);
    let lastChange = Date.now();
    let lastPrinted = 0;
    let seen = progress.delivered;
    for (;;) {
      if (progress.delivered >= expected) break;
      const now = Date.now();
      if (progress.delivered !== seen) {
        seen = progress.delivered;
        lastChange = now;
      }
      if (now - lastPrinted >= 5_000) {
        lastPrinted = now;
        const down = progress.outage && now < progress.outage.until ? `, ${OUTAGE_PATH} down` : '';
        console.log(
          `${name}: ${progress.delivered} / ${expected} events after ${((now - t0) / 1000).toFixed(0)} s${down}`,
        );
      }
      const quietSince = Math.max(lastChange, t0 + importMs, progress.outage?.until ?? 0);
      if (now - quietSince > IDLE_MS) {
        console.warn(`${name}: nothing new for ${IDLE_MS / 1000} s, giving up`);
        break;
      }
      await sleep(250);
      progress = await getJson<Progress>(`${receiver}/control/progress`);
    }
    const complete = progress.delivered >= expected;
    const cpuAfter = cpuSeconds(server.child.pid);
    // Anything arriving after the last expected event is a duplicate: listen for a while.
    await sleep(SETTLE_MS);
    const report = await getJson<ReceiverReport>(`${receiver}/control/report`);
    const wallMs = Math.max(...report.paths.map((p) => p.lastAt)) - t0;
    const db = await databaseFigures(url);
    return {
      name,
      outageMs,
      expected,
      importMs,
      wallMs,
      complete,
      report,
      t0,
      ...(cpuBefore !== undefined && cpuAfter !== undefined ? { serverCpu: cpuAfter - cpuBefore } : {}),
      db,
    };
  } finally {
    await stopPinned(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const n = (value: number) => Math.round(value).toLocaleString('en');
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const perSecond = (r: RunResult) => totals(r.report).delivered / (r.wallMs / 1000);

/** The least time a message is retried before its subscription is suspended (each backoff at its lower bound). */
function retryWindowSeconds(): number {
  let total = 0;
  for (let k = 1; k <= RETRY.limit; k++) total += Math.min(RETRY.delayMax, RETRY.delay * 2 ** Math.min(15, k - 1));
  return Math.floor(total * 0.8); // the shortest the jitter (±20 %) makes it
}

function command(): string {
  const set = ['BENCH_NOTIFY_CHANGES', 'BENCH_NOTIFY_SUBSCRIPTIONS', 'BENCH_NOTIFY_OUTAGE']
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`);
  return [...set, 'npm run bench -- notify'].join(' ');
}

function row(r: RunResult): string {
  const t = totals(r.report);
  const cpu =
    r.serverCpu === undefined
      ? 'n/a'
      : `${r.serverCpu.toFixed(1)} s (${Math.round((r.serverCpu / (r.wallMs / 1000)) * 100)} %)`;
  return `| ${r.name} | ${n(t.delivered)} / ${n(r.expected)} | ${n(t.messages)} | ${s1(r.importMs)} s | ${s1(r.wallMs - r.importMs)} s | **${s1(r.wallMs)} s** | **${n(perSecond(r))}** | ${n(t.lost)} | ${t.duplicateMessages} | ${t.duplicateEvents} | ${t.outOfOrder} | ${cpu} |`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 0;
}

function outageText(r: RunResult): string {
  const { report } = r;
  const down = report.paths.find((p) => p.path === OUTAGE_PATH);
  const outage = report.outage;
  if (!down || !outage) return `The outage never started (${OUTAGE_PATH} took no second message).`;
  const others = report.paths.filter((p) => p.path !== OUTAGE_PATH);
  const othersDone = others.length ? Math.max(...others.map((p) => p.lastAt)) - r.t0 : 0;
  const attempts = down.refusedAt.map((at) => s1(at - r.t0));
  const gaps = down.refusedAt.slice(1).map((at, i) => at - down.refusedAt[i]!);
  const subs = Object.entries(r.db.subscriptions)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  const pending = r.db.notifications.pending ?? 0;
  const backlog =
    down.lost === 0
      ? `${OUTAGE_PATH} took its first message ${s1(down.resumedAt - outage.until)} s after the outage ended and had all
${n(down.delivered)} of its events (${down.outOfOrder} out of order) ${s1(down.lastAt - outage.until)} s after it ended,
${s1(down.lastAt - r.t0)} s after the import started`
      : `${OUTAGE_PATH} ${down.resumedAt ? `took its first message ${s1(down.resumedAt - outage.until)} s after the outage ended but` : 'took nothing after the outage and'}
had only ${n(down.delivered)} of its ${n(down.delivered + down.lost)} events when the wait ended (**${n(down.lost)} lost**)`;
  return `${OUTAGE_PATH} answered 503 from ${s1(outage.from - r.t0)} s to ${s1(outage.until - r.t0)} s after the import started (from its
second message on): ${down.refusedAt.length} attempts refused, at ${attempts.join(', ')} s: median gap ${s1(median(gaps))} s, longest
${s1(Math.max(0, ...gaps))} s (the backoff alone would wait 1, 2, 4, 8, then ${RETRY.delayMax} s between attempts of a message);
${down.refusedNeverTaken} of the refused \`message_id\`s never came back to be taken. ${backlog}; r1–r${SUBSCRIPTIONS - 1}
were complete after ${s1(othersDone)} s. At the end: subscriptions ${subs}; notification rows still pending ${n(pending)};
the largest \`attempts\` of a notification row ${r.db.maxAttempts}.`;
}

interface Target {
  label: string;
  measured: string;
  goal: string;
  met: boolean;
}

function targets(steady: RunResult, outage: RunResult): Target[] {
  const ts = totals(steady.report);
  const to = totals(outage.report);
  return [
    {
      label: 'run 1 events/s',
      measured: n(perSecond(steady)),
      goal: `≥ ${n(TARGET_EVENTS_PER_SECOND)}`,
      met: perSecond(steady) >= TARGET_EVENTS_PER_SECOND,
    },
    { label: 'run 1 lost', measured: String(ts.lost), goal: '0', met: ts.lost === 0 },
    { label: `run 2 lost (${OUTAGE_PATH} down ${OUTAGE} s)`, measured: String(to.lost), goal: '0', met: to.lost === 0 },
    {
      label: 'run 2 subscriptions suspended',
      measured: String(outage.db.subscriptions.suspended ?? 0),
      goal: '0 (the retries bridge the outage)',
      met: (outage.db.subscriptions.suspended ?? 0) === 0,
    },
  ];
}

function report(steady: RunResult, outage: RunResult, startLoad: number): string {
  const t = targets(steady, outage);
  return `## Notifications (\`npm run bench -- notify\`)

Machine: ${machine()}; 1-minute load average ${startLoad.toFixed(2)} when the run started.

Command: \`${command()}\`. PostgreSQL, a fresh database and a freshly started server per run. The server is the
built \`dci serve\` (role all, \`LOG_LEVEL=warn\`, defaults otherwise: audit on, every notify signed with Ed25519)
${canPin() ? 'pinned to core 0 (`taskset -c 0`)' : '**not pinned** (no `taskset` or one core)'}. ${SUBSCRIPTIONS} subscriptions over HTTP
(\`POST /registry/subscribe\`, \`REGISTER\`, \`notify_record_type\` \`Member\`, filter
\`${JSON.stringify(FILTER)}\`), each with its own \`sender_uri\` \`…/r{i}/on-subscribe\`, so its notifications go to
\`/r{i}/notify\` of a local receiver (one HTTP server in a process${canPin() ? ' pinned to core 1' : ''}, answering 200 with an ACK).
Then ${n(CHANGES)} registry changes: ${n(CHANGES)} new individuals, each matching every subscription, imported while the server
runs with \`dci registry import\`${canPin() ? ' (on core 1)' : ''}, ${FILES} NDJSON files of ${n(CHANGES / FILES)} one after the other:
${n(CHANGES * SUBSCRIPTIONS)} events expected per run. Wall time is from the start of the first import to the last event
received; events/s = events delivered / wall time. Lost = (subscription, person) pairs never received;
duplicate messages = a \`message_id\` answered 200 more than once; duplicate events = a (subscription, person)
pair received again in any message taken; out of order = an event received after one of a person imported later
(same subscription). The receivers listen ${SETTLE_MS / 1000} s more after the last expected event. Server CPU is the
server process's user + system time over the wall time (PostgreSQL not included).

Retry settings (server environment): \`DCI_CALLBACK_RETRY_DELAY=${RETRY.delay}\`, \`DCI_CALLBACK_RETRY_DELAY_MAX=${RETRY.delayMax}\`,
\`DCI_CALLBACK_RETRY_LIMIT=${RETRY.limit}\`, \`DCI_NOTIFY_EVENTS_PER_MESSAGE=${EVENTS_PER_MESSAGE}\`. The k-th retry of a message waits
min(${RETRY.delayMax}, ${RETRY.delay}·2^(k−1)) s ±20 % (jitter), scheduled in the outbox row of the message: a receiver that is down is
tried again at least every ${RETRY.delayMax * 1.2} s, and by this backoff a message is retried for at least ${n(retryWindowSeconds())} s before its
subscription is suspended, well above the ${OUTAGE} s outage of run 2 (the settings the issue asks for: backoff capped so that the
outage is bridged, the suspension threshold above it).

| run | events delivered | messages | import | drain after the import | wall time | events/s | lost | duplicate messages | duplicate events | out of order | server CPU |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${row(steady)}
${row(outage)}

Run 2: ${outageText(outage)}

| target | measured | goal | met |
| --- | --- | --- | --- |
${t.map((x) => `| ${x.label} | ${x.measured} | ${x.goal} | ${x.met ? 'yes' : '**no**'} |`).join('\n')}

"Met" is computed from the figures above. The server output is in \`.bench/notify-run*-server.log\`.`;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const startLoad = loadavg()[0]!;
  let created = false;
  installChildCleanup(async () => {
    if (created && process.env.BENCH_KEEP !== '1') await dropPostgresDatabase(DATABASE);
  });
  const work = mkdtempSync(join(tmpdir(), 'opendci-bench-notify-'));
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const secret = randomBytes(18).toString('hex');
  if (retryWindowSeconds() <= OUTAGE + RETRY.delayMax) {
    throw new Error(`the retries (${retryWindowSeconds()} s at least) do not bridge a ${OUTAGE} s outage`);
  }
  let exitCode = 0;
  try {
    if (process.env.BENCH_BUILD !== '0') {
      console.log('building (tsc -b) …');
      const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], {
        cwd: root,
        stdio: 'inherit',
      });
      if (build.status !== 0) throw new Error('the build failed');
    }
    if (!canPin()) console.warn('taskset is missing or the machine has one core: nothing is pinned');
    if (startLoad > 0.5) console.warn(`load average ${startLoad.toFixed(2)}: the machine is not quiet`);
    const receiver = await startReceiver();
    try {
      created = true;
      const steady = await run(1, 'run 1: steady', 0, receiver.base, work, secret);
      console.log(`${row(steady)}`);
      const outage = await run(2, `run 2: ${OUTAGE_PATH} down ${OUTAGE} s`, OUTAGE * 1000, receiver.base, work, secret);
      console.log(`${row(outage)}`);
      for (const r of [steady, outage]) {
        if (r.report.problems.length > 0 || r.report.unexpected > 0) {
          console.warn(`${r.name}: ${r.report.unexpected} unexpected events; ${r.report.problems.join('; ')}`);
        }
        console.log(
          `${r.name}: database: notifications ${JSON.stringify(r.db.notifications)}, subscriptions ${JSON.stringify(r.db.subscriptions)}, max attempts ${r.db.maxAttempts}`,
        );
      }
      const body = await format(report(steady, outage, startLoad), {
        ...(await resolveConfig(performanceDoc)),
        parser: 'markdown',
      });
      console.log(`\n${body}`);
      const bad = [steady, outage].filter((r) => r.report.problems.length > 0 || r.report.unexpected > 0);
      if (bad.length > 0) {
        console.error('FAILED — malformed or unexpected notifications, docs/performance.md not written');
        exitCode = 1;
      } else {
        writeSection('bench:notify', body);
        console.log('written to docs/performance.md (section bench:notify)');
      }
      const lost = totals(steady.report).lost + totals(outage.report).lost;
      if (lost > 0) {
        console.error(`FAILED: ${lost} events lost`);
        exitCode = 1;
      }
    } finally {
      await stopChild(receiver.child, 2_000);
    }
  } catch (error) {
    console.error(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    exitCode = 1;
  } finally {
    if (created && process.env.BENCH_KEEP !== '1') {
      await dropPostgresDatabase(DATABASE).catch((error: unknown) =>
        console.warn(`could not drop ${DATABASE}: ${String(error)}`),
      );
    }
    rmSync(work, { recursive: true, force: true });
  }
  return exitCode;
}

if (process.env.BENCH_NOTIFY_RECEIVER === '1') await receiverMain();
else process.exit(await main());
