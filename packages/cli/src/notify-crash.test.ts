/**
 * Durability of notifications: a server killed with SIGKILL in the middle of a delivery (the
 * receiver has the message but has not answered) loses nothing. After a restart every event
 * arrives, in order; only the interrupted message comes twice, with its own message_id.
 * PostgreSQL only: the registry changes come from `dci registry import` while the server runs,
 * which the embedded store's lock does not allow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, TEST_DATABASE_URL } from '../../server/src/test-support/backends.js';
import { bin, freePort, runDci } from './test-support/run.js';

interface Notify {
  header: { message_id: string };
  message: { notify_event: { data: { reg_records: { demographic_info: { name: { given_name: string } } } } }[] };
}

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

const skip = !(await postgresAvailable()) && process.env.REQUIRE_POSTGRES !== '1';

describe.skipIf(skip)('SIGKILL mid-delivery of notifications [postgres]', () => {
  const dbName = `opendci_notify_crash_${process.pid}`;
  let databaseUrl: string;
  let receiver: Server;
  let base: string;
  const notifications: Notify[] = [];
  const subscribed: unknown[] = [];
  /** The receiver holds the second notify message without answering (the server dies meanwhile). */
  let held: ServerResponse | undefined;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(data) as Notify;
        if (req.url?.endsWith('/notify')) {
          notifications.push(body);
          if (notifications.length === 2) {
            held = res;
            return;
          }
        } else subscribed.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"message":{"ack_status":"ACK","timestamp":"2026-01-01T00:00:00Z"}}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/mis/registry`;
    const added = await runDci(
      [
        'senders',
        'add',
        '--id',
        'mis',
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
    held?.destroy();
    await new Promise((resolve) => receiver?.close(resolve));
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  });

  it('delivers every event, in order, after a restart', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      DCI_ALLOW_INSECURE_CALLBACKS: 'true',
      DCI_NOTIFY_EVENTS_PER_MESSAGE: '5',
      DCI_CALLBACK_RETRY_DELAY: '1',
      DCI_CALLBACK_RETRY_DELAY_MAX: '2',
    };
    const names = Array.from({ length: 20 }, (_, i) => `Person${String(i).padStart(2, '0')}`);
    const first = startServer(env);
    try {
      await ready(port);
      const token = (await (
        await fetch(`http://127.0.0.1:${port}/oauth2/client/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&client_id=mis&client_secret=s3cret',
        })
      ).json()) as { access_token: string };
      const now = new Date().toISOString();
      const res = await fetch(`http://127.0.0.1:${port}/registry/subscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
        body: JSON.stringify({
          signature: 'unsigned',
          header: {
            version: '1.0.0',
            message_id: `m-${Date.now()}`,
            message_ts: now,
            action: 'subscribe',
            sender_id: 'mis',
            sender_uri: `${base}/on-subscribe`,
            total_count: 1,
          },
          message: {
            transaction_id: 'txn-sub',
            subscribe_request: [
              {
                reference_id: 'r-1',
                timestamp: now,
                subscribe_criteria: {
                  reg_event_type: 'REGISTER',
                  notify_record_type: 'Member',
                  filter_type: 'expression',
                  filter: { given_name: { $in: names } },
                },
              },
            ],
          },
        }),
      });
      expect(res.status).toBe(202);
      await expect.poll(() => subscribed.length, { timeout: 20_000 }).toBe(1);

      // 20 people: four messages of five. The second is held, then the server dies.
      const file = join(mkdtempSync(join(tmpdir(), 'opendci-notify-crash-')), 'people.ndjson');
      writeFileSync(
        file,
        names
          .map((given, i) =>
            JSON.stringify({ type: 'individual', identifiers: [{ type: 'UIN', value: `NC-${i}` }], given_name: given }),
          )
          .join('\n'),
      );
      const imported = await runDci(['registry', 'import', file], { DATABASE_URL: databaseUrl });
      expect(imported.code, imported.stderr).toBe(0);
      await expect.poll(() => held !== undefined, { timeout: 20_000 }).toBe(true);
    } finally {
      await kill(first, 'SIGKILL');
    }
    held?.destroy();
    const interrupted = notifications.at(-1)!.header.message_id;

    const second = startServer(env);
    try {
      await ready(port);
      // The interrupted job comes back when its heartbeat runs out (30 s).
      await expect
        .poll(() => new Set(notifications.flatMap((n) => n.message.notify_event.map(givenName))).size, {
          timeout: 90_000,
          interval: 500,
        })
        .toBe(20);
    } finally {
      await kill(second, 'SIGTERM');
    }
    const firstSeen: string[] = [];
    for (const name of notifications.flatMap((n) => n.message.notify_event.map(givenName))) {
      if (!firstSeen.includes(name)) firstSeen.push(name);
    }
    expect(firstSeen).toEqual(names);
    // Only the interrupted message came again, with the same message_id.
    const ids = notifications.map((n) => n.header.message_id);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect([...new Set(repeated)]).toEqual([interrupted]);
  }, 180_000);
});

function givenName(event: Notify['message']['notify_event'][number]): string {
  return event.data.reg_records.demographic_info.name.given_name;
}
