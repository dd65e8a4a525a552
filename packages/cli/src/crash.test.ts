/**
 * Durability: a server killed with SIGKILL right after it ACKed an async search delivers the
 * callback once it is started again — on PostgreSQL and on the embedded store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, TEST_DATABASE_URL } from '../../server/src/test-support/backends.js';
import { bin, freePort, runDci } from './test-support/run.js';

function startServer(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [bin, 'serve'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
}

async function ready(port: number): Promise<void> {
  await expect
    .poll(async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.status, {
      timeout: 60_000,
      interval: 200,
    })
    .toBe(200);
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

const pgUp = await postgresAvailable();
const backends = [
  { name: 'pglite', skip: false },
  { name: 'postgres', skip: !pgUp && process.env.REQUIRE_POSTGRES !== '1' },
] as const;

for (const backend of backends) {
  describe.skipIf(backend.skip)(`crash after ACK [${backend.name}]`, () => {
    let databaseUrl: string;
    let receiver: Server;
    let receiverUrl: string;
    const received: { transaction_id?: string }[] = [];
    const dbName = `opendci_crash_${process.pid}`;

    beforeAll(async () => {
      if (backend.name === 'postgres') {
        const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`create database ${dbName}`);
        await admin.end();
        const url = new URL(TEST_DATABASE_URL);
        url.pathname = `/${dbName}`;
        databaseUrl = url.toString();
      } else {
        databaseUrl = `pglite:${join(mkdtempSync(join(tmpdir(), 'opendci-crash-')), 'store')}`;
      }
      receiver = createServer((req, res) => {
        let data = '';
        req.on('data', (c: Buffer) => (data += c.toString()));
        req.on('end', () => {
          received.push((JSON.parse(data) as { message: { transaction_id?: string } }).message);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"message":{"ack_status":"ACK","timestamp":"2026-01-01T00:00:00Z","correlation_id":"x"}}');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/registry/on-search`;
      const added = await runDci(
        [
          'senders',
          'add',
          '--id',
          'crash-client',
          '--client-secret',
          's3cret',
          '--signature-policy',
          'optional',
          '--callback-allow',
          'http://127.0.0.1:*',
        ],
        { DATABASE_URL: databaseUrl },
      );
      expect(added.code).toBe(0);
    }, 60_000);

    afterAll(async () => {
      await new Promise((resolve) => receiver?.close(resolve));
      if (backend.name === 'postgres') {
        const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`drop database if exists ${dbName} with (force)`);
        await admin.end();
      }
    });

    it('delivers the callback after a restart', async () => {
      const port = await freePort();
      const env = { DATABASE_URL: databaseUrl, PORT: String(port), DCI_ALLOW_INSECURE_CALLBACKS: 'true' };
      // An API-only node: it ACKs and queues, but runs no job, so the kill lands before delivery.
      const first = startServer({ ...env, DCI_ROLE: 'api' });
      try {
        await ready(port);
        const token = (await (
          await fetch(`http://127.0.0.1:${port}/oauth2/client/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'grant_type=client_credentials&client_id=crash-client&client_secret=s3cret',
          })
        ).json()) as { access_token: string };
        const now = new Date().toISOString();
        const res = await fetch(`http://127.0.0.1:${port}/registry/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
          body: JSON.stringify({
            signature: 'unsigned',
            header: {
              version: '1.0.0',
              message_id: `m-${Date.now()}`,
              message_ts: now,
              action: 'search',
              sender_id: 'crash-client',
              sender_uri: receiverUrl,
              total_count: 1,
            },
            message: {
              transaction_id: 'txn-crash',
              search_request: [
                {
                  reference_id: 'r-1',
                  timestamp: now,
                  search_criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: '1' } },
                },
              ],
            },
          }),
        });
        expect(res.status).toBe(202);
      } finally {
        await kill(first, 'SIGKILL');
      }
      expect(received).toEqual([]);
      const second = startServer(env);
      try {
        await ready(port);
        await expect
          .poll(() => received.map((m) => m.transaction_id), { timeout: 30_000, interval: 200 })
          .toEqual(['txn-crash']);
      } finally {
        await kill(second, 'SIGTERM');
      }
    }, 120_000);
  });
}
