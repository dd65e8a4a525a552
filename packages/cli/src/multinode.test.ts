/**
 * Two server nodes on one PostgreSQL: 1,000 signed async searches sent alternately to both, every
 * callback delivered at least once and none twice (duplicates counted by `message_id`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwkThumbprint, requestHeader, searchRequestMessage, signMessage, verifyMessage } from '@opendci/protocol';
import { postgresAvailable, TEST_DATABASE_URL } from '../../server/src/test-support/backends.js';
import { bin, freePort, runDci } from './test-support/run.js';

const SEARCHES = 1000;
const IN_FLIGHT = 20;
const SENDER = 'multinode-client';
const SECRET = 's3cret';

interface Node {
  port: number;
  child: ChildProcess;
  stderr: string;
}

interface Callback {
  signature: string;
  header: { message_id: string; action: string; status: string; receiver_id?: string };
  message: {
    transaction_id: string;
    correlation_id: string;
    search_response: { status: string; data?: { reg_records?: unknown[] } }[];
  };
}

interface Sent {
  node: number;
  uin: string;
  correlationId: string;
}

function startNode(port: number, env: Record<string, string>): Node {
  const child = spawn(process.execPath, [bin, 'serve', '--role', 'all'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const node: Node = { port, child, stderr: '' };
  child.stderr?.on('data', (d: Buffer) => (node.stderr = (node.stderr + d.toString()).slice(-4000)));
  return node;
}

/** Polls /ready (expect.poll is for tests, not hooks). */
async function ready(node: Node): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (node.child.exitCode !== null) break;
    const res = await fetch(`http://127.0.0.1:${node.port}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`the node on port ${node.port} is not ready (exit ${node.child.exitCode}): ${node.stderr}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const pgUp = await postgresAvailable();

describe.skipIf(!pgUp && process.env.REQUIRE_POSTGRES !== '1')('two nodes on one PostgreSQL', () => {
  const dbName = `opendci_multinode_${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'opendci-multinode-'));
  const callbacks: Callback[] = [];
  const nodes: Node[] = [];
  let env: Record<string, string>;
  let receiver: Server;
  let receiverUrl: string;
  let privateKey: KeyObject;
  let kid: string;
  let uins: string[];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${dbName}`;
    const ports = [await freePort(), await freePort()];
    env = {
      DATABASE_URL: url.toString(),
      DCI_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DCI_ALLOW_INSECURE_CALLBACKS: 'true',
      // One public URL for both nodes (as behind a load balancer): a token of one is valid on the other.
      DCI_BASE_URL: `http://127.0.0.1:${ports[0]}`,
    };

    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        callbacks.push(JSON.parse(data) as Callback);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            message: { ack_status: 'ACK', timestamp: new Date().toISOString(), correlation_id: randomUUID() },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/registry/on-search`;

    const generated = await runDci(['registry', 'generate', '--households', '200', '--seed', 'multinode'], env);
    expect(generated.code, generated.stderr).toBe(0);

    const keys = generateKeyPairSync('ed25519');
    privateKey = keys.privateKey;
    kid = jwkThumbprint(keys.publicKey);
    const pem = join(work, 'sender.pem');
    writeFileSync(pem, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const added = await runDci(
      [
        'senders',
        'add',
        '--id',
        SENDER,
        '--client-secret',
        SECRET,
        '--signature-policy',
        'required',
        '--public-key-file',
        pem,
        '--callback-allow',
        'http://127.0.0.1:*',
      ],
      env,
    );
    expect(added.code, added.stderr).toBe(0);

    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    uins = (
      await db.query<{ id_value: string }>(
        `select id_value from identifier where id_type = 'UIN' and entity_type = 'individual' order by id_value`,
      )
    ).rows.map((r) => r.id_value);
    await db.end();
    expect(uins.length).toBeGreaterThan(100);

    // Both nodes start at once on the same database, as a fresh cluster does.
    for (const port of ports) nodes.push(startNode(port, env));
    await Promise.all(nodes.map(ready));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => stop(n.child)));
    for (const n of nodes) if (n.stderr) console.log(`node on port ${n.port} logged:\n${n.stderr}`);
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }, 60_000);

  it('delivers each of 1,000 async searches sent to either node once', async () => {
    const tokenRes = await fetch(`http://127.0.0.1:${nodes[0]!.port}/oauth2/client/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${SENDER}&client_secret=${SECRET}`,
    });
    expect(tokenRes.status).toBe(200);
    const token = ((await tokenRes.json()) as { access_token: string }).access_token;

    const sent = new Map<string, Sent>();
    const latencies: number[] = [];
    const failures: string[] = [];
    const started = performance.now();
    let next = 0;
    const sendOne = async (i: number) => {
      const node = i % 2;
      const uin = uins[i % uins.length]!;
      const transactionId = `mn-${i}`;
      const message = searchRequestMessage({
        transactionId,
        items: [
          { referenceId: `r-${i}`, criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: uin } } },
        ],
      });
      const header = requestHeader({
        action: 'search',
        senderId: SENDER,
        totalCount: 1,
        senderUri: receiverUrl,
        messageId: randomUUID(),
      });
      const signature = signMessage({ header, message }, { senderId: SENDER, kid, privateKey });
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${nodes[node]!.port}/registry/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ signature, header, message }),
      });
      const body = (await res.json()) as { message?: { ack_status?: string; correlation_id?: string } };
      latencies.push(performance.now() - t0);
      if (res.status !== 202 || body.message?.ack_status !== 'ACK' || !body.message.correlation_id) {
        failures.push(`${transactionId} on node ${node}: ${res.status} ${JSON.stringify(body)}`);
        return;
      }
      sent.set(transactionId, { node, uin, correlationId: body.message.correlation_id });
    };
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < SEARCHES) await sendOne(next++);
      }),
    );
    const acked = performance.now();
    expect(failures).toEqual([]);
    expect(sent.size).toBe(SEARCHES);

    const arrived = () => new Set(callbacks.map((c) => c.message.transaction_id)).size;
    await expect.poll(arrived, { timeout: 120_000, interval: 250 }).toBe(SEARCHES);
    const done = performance.now();
    await sleep(2000); // late duplicates, if any, arrive now

    const byMessageId = new Map<string, number>();
    const byTransaction = new Map<string, number>();
    for (const c of callbacks) {
      byMessageId.set(c.header.message_id, (byMessageId.get(c.header.message_id) ?? 0) + 1);
      byTransaction.set(c.message.transaction_id, (byTransaction.get(c.message.transaction_id) ?? 0) + 1);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!);
    const extra = (counts: Map<string, number>) => [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
    const duplicateMessages = extra(byMessageId);
    const duplicateTransactions = extra(byTransaction);
    const perNode = [0, 1].map((n) => [...sent.values()].filter((s) => s.node === n).length);

    console.log(
      `multinode: ${SEARCHES} signed async searches over 2 nodes (${perNode.join(' + ')}, ${IN_FLIGHT} in flight): ` +
        `all ACKed in ${((acked - started) / 1000).toFixed(1)} s ` +
        `(${Math.round(SEARCHES / ((acked - started) / 1000))}/s, ACK p50 ${pct(0.5)} ms p95 ${pct(0.95)} ms), ` +
        `all callbacks in ${((done - started) / 1000).toFixed(1)} s ` +
        `(${Math.round(SEARCHES / ((done - started) / 1000))}/s); ` +
        `callbacks ${callbacks.length}, transactions ${byTransaction.size}, ` +
        `duplicate message_ids ${duplicateMessages}, transactions delivered more than once ${duplicateTransactions}; ` +
        `${availableParallelism()} CPUs, load ${loadavg()[0]!.toFixed(1)}`,
    );

    for (const id of sent.keys()) expect(byTransaction.get(id) ?? 0, id).toBeGreaterThanOrEqual(1);
    expect([...byTransaction.keys()].filter((id) => !sent.has(id))).toEqual([]);
    expect(duplicateMessages).toBe(0);

    const jwks = await Promise.all(
      nodes.map(
        async (n) =>
          (
            (await (await fetch(`http://127.0.0.1:${n.port}/.well-known/jwks.json`)).json()) as {
              keys: { kid: string }[];
            }
          ).keys,
      ),
    );
    const serverKeys = new Map(jwks.flat().map((k) => [k.kid, createPublicKey({ key: k as never, format: 'jwk' })]));
    for (const c of callbacks) {
      const txn = sent.get(c.message.transaction_id)!;
      expect(c.header, c.message.transaction_id).toMatchObject({
        action: 'on-search',
        status: 'succ',
        receiver_id: SENDER,
      });
      expect(c.message.correlation_id, c.message.transaction_id).toBe(txn.correlationId);
      const item = c.message.search_response[0];
      expect(item?.status, c.message.transaction_id).toBe('succ');
      expect(item?.data?.reg_records?.length ?? 0, c.message.transaction_id).toBeGreaterThan(0);
      expect(JSON.stringify(item?.data?.reg_records), c.message.transaction_id).toContain(txn.uin);
      // Throws unless signed by a key of the shared store.
      expect(verifyMessage(c, { resolveKey: (k) => serverKeys.get(k), expectedSenderId: 'opendci' }).senderId).toBe(
        'opendci',
      );
    }
  }, 240_000);
});
