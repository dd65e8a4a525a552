/**
 * Load generator for async search, run in its own process (pinned to core 1 by the caller), with
 * the callback receiver in the same process: `connections` senders keep one async search each in
 * flight for `duration` s (fresh `message_id` and signature per request), `header.sender_uri`
 * pointing at the receiver here. The receiver answers every callback 200 with an ACK and counts
 * it by `header.message_id` (duplicates) and `message.correlation_id` (matched against the ACKs).
 * After the load it waits for the backlog to drain: until every ACKed request has its callback,
 * or no callback came for `idleSeconds`, or `drainSeconds` have passed. Reads AsyncSpec from
 * LOAD_SPEC, prints AsyncResult as JSON on stdout.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ack } from '../../packages/protocol/src/index.js';
import { cannon, specFrom } from './cannon.js';
import { idtypeCriteria, percentile, searchBody, type LoadResult, type Sender } from './messages.js';

export interface AsyncSpec {
  url: string;
  connections: number;
  duration: number;
  token: string;
  senderId: string;
  signer?: { kid: string; privateKeyPem: string };
  values: string[];
  drainSeconds: number;
  idleSeconds: number;
}

export interface AsyncResult {
  /** The POSTs (their latency is the time to the ACK). */
  load: LoadResult;
  /** Requests answered 202 with an ACK. */
  acked: number;
  ackPerSecond: number;
  /** Distinct callbacks (by message_id). */
  callbacks: number;
  /** Callbacks received during the load itself, per second. */
  duringLoadPerSecond: number;
  /** Distinct callbacks over the time from the first to the last. */
  sustainedPerSecond: number;
  /** Seconds from the first callback to the last. */
  callbackSpan: number;
  /** Seconds from the end of the load to the last callback. */
  drainSeconds: number;
  /** ACKed requests without a callback at the end. */
  lost: number;
  /** Callbacks whose message_id came before. */
  duplicates: number;
  /** Callbacks for requests whose ACK the load generator never read (in flight when it stopped). */
  unmatched: number;
  /** Callbacks whose search item was not `succ`, or with no record. */
  badAnswers: number;
  /** Callback bodies that were not JSON. */
  receiverErrors: number;
  /** From making the request to receiving its callback, ms: p50, p95, p99. */
  callbackLatency: { p50: number; p95: number; p99: number };
}

const spec = specFrom<AsyncSpec>('LOAD_SPEC');
const sender: Sender = {
  senderId: spec.senderId,
  ...(spec.signer ? { signer: { kid: spec.signer.kid, privateKey: createPrivateKey(spec.signer.privateKeyPem) } } : {}),
};

const acked = new Set<string>();
const messageIds = new Set<string>();
const called = new Set<string>();
let duplicates = 0;
let badAnswers = 0;
let receiverErrors = 0;
let first = 0;
let last = 0;
let loadRunning = true;
let duringLoad = 0;
/** transaction_id → when its request was made (ms); callback latencies, ms. */
const sentAt = new Map<string, number>();
const callbackLatencies: number[] = [];

interface Callback {
  header?: { message_id?: string };
  message?: {
    correlation_id?: string;
    transaction_id?: string;
    search_response?: { status?: string; data?: { reg_records?: unknown[] } }[];
  };
}

function receive(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let body: Callback;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Callback;
    } catch {
      receiverErrors++;
      response.writeHead(400).end();
      return;
    }
    const messageId = body.header?.message_id ?? '';
    const correlationId = body.message?.correlation_id ?? '';
    if (messageIds.has(messageId)) duplicates++;
    else {
      messageIds.add(messageId);
      called.add(correlationId);
      last = Date.now();
      if (first === 0) first = last;
      if (loadRunning) duringLoad++;
      const sent = sentAt.get(body.message?.transaction_id ?? '');
      if (sent !== undefined) callbackLatencies.push(last - sent);
      const item = body.message?.search_response?.[0];
      if (item?.status !== 'succ' || item.data?.reg_records?.length !== 1) badAnswers++;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(ack({ correlationId })));
  });
}

const receiver = createServer(receive);
receiver.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const senderUri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/on-search`;

let n = 0;
const loadStarted = Date.now();
const load = await cannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.duration,
  headers: { authorization: `Bearer ${spec.token}` },
  body: () => {
    const transactionId = randomUUID();
    sentAt.set(transactionId, Date.now());
    return searchBody(sender, idtypeCriteria(spec.values[n++ % spec.values.length]!), senderUri, transactionId);
  },
  onResponse: (status, body) => {
    if (status !== 202) return;
    try {
      const id = (JSON.parse(body) as { message?: { ack_status?: string; correlation_id?: string } }).message;
      if (id?.ack_status === 'ACK' && id.correlation_id) acked.add(id.correlation_id);
    } catch {
      /* counted as a 2xx without an ACK: acked stays lower than the 2xx count */
    }
  },
});
const loadEnded = Date.now();
loadRunning = false;
const loadSeconds = (loadEnded - loadStarted) / 1000;

const missing = () => {
  let count = 0;
  for (const id of acked) if (!called.has(id)) count++;
  return count;
};
for (;;) {
  const now = Date.now();
  if (missing() === 0) break;
  if (now - loadEnded > spec.drainSeconds * 1000) break;
  if (now - Math.max(last, loadEnded) > spec.idleSeconds * 1000) break;
  await new Promise((r) => setTimeout(r, 250));
}
// Late duplicates (a retry of a callback whose ACK was slow) have a moment to arrive.
await new Promise((r) => setTimeout(r, 1000));
receiver.closeAllConnections();
receiver.close();

let unmatched = 0;
for (const id of called) if (!acked.has(id)) unmatched++;
callbackLatencies.sort((a, b) => a - b);
const span = first && last > first ? (last - first) / 1000 : 0;
const result: AsyncResult = {
  load,
  acked: acked.size,
  ackPerSecond: Math.round(acked.size / load.seconds),
  callbacks: messageIds.size,
  duringLoadPerSecond: Math.round(duringLoad / loadSeconds),
  sustainedPerSecond: span > 0 ? Math.round((messageIds.size - 1) / span) : 0,
  callbackSpan: Math.round(span * 10) / 10,
  drainSeconds: last > loadEnded ? Math.round((last - loadEnded) / 100) / 10 : 0,
  lost: missing(),
  duplicates,
  unmatched,
  badAnswers,
  receiverErrors,
  callbackLatency: {
    p50: percentile(callbackLatencies, 50),
    p95: percentile(callbackLatencies, 95),
    p99: percentile(callbackLatencies, 99),
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
