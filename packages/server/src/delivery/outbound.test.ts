import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { DciError, ErrorCode } from '@opendci/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkCallbackUrl, type HostLookup, MAX_RESPONSE_BYTES, OutboundError, postJson } from './outbound.js';

// ---------------------------------------------------------------------------------------------
// checkCallbackUrl

function reasonOf(url: string, options: Parameters<typeof checkCallbackUrl>[1]): string | undefined {
  try {
    checkCallbackUrl(url, options);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DciError);
    expect((error as DciError).code).toBe(ErrorCode.SenderUriInvalid);
    expect((error as DciError).status).toBe(400);
    return (error as DciError).message;
  }
}

describe('checkCallbackUrl', () => {
  it('accepts an https URL with a host name and returns it parsed', () => {
    const url = checkCallbackUrl('https://spmis.example.org/dci/on-search?x=1', { allowInsecure: false });
    expect(url).toBeInstanceOf(URL);
    expect(url.href).toBe('https://spmis.example.org/dci/on-search?x=1');
  });

  it('refuses http without the switch and accepts it with it', () => {
    expect(reasonOf('http://spmis.example.org/cb', { allowInsecure: false })).toMatch(/must use https/);
    expect(reasonOf('http://spmis.example.org/cb', { allowInsecure: true })).toBeUndefined();
  });

  it.each([
    'https://127.0.0.1/cb',
    'https://127.0.0.1:8443/cb',
    'https://127.1/cb',
    'https://0x7f000001/cb',
    'https://[::1]/cb',
    'https://[::ffff:127.0.0.1]/cb',
    'https://[::ffff:7f00:1]/cb',
    'https://10.0.0.5/cb',
    'https://172.16.0.1/cb',
    'https://192.168.1.1/cb',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/cb',
    'https://[fd00::1]/cb',
    'https://[fe80::1]/cb',
    'https://[64:ff9b::a00:5]/cb',
    'https://[2002:a00:5::1]/cb',
    'https://192.0.2.1/cb',
    'https://localhost/cb',
    'https://LOCALHOST:8443/cb',
    'https://app.localhost/cb',
  ])('refuses the loopback/private target %s without the switch, allows it with it', (url) => {
    expect(reasonOf(url, { allowInsecure: false })).toMatch(/DCI_ALLOW_INSECURE_CALLBACKS/);
    expect(reasonOf(url, { allowInsecure: true })).toBeUndefined();
  });

  it.each([
    'https://0.0.0.0/cb',
    'https://[::]/cb',
    'https://224.0.0.1/cb',
    'https://255.255.255.255/cb',
    'https://[ff02::1]/cb',
  ])('refuses %s even with the switch', (url) => {
    expect(reasonOf(url, { allowInsecure: false })).toBeDefined();
    expect(reasonOf(url, { allowInsecure: true })).toBeDefined();
  });

  it('accepts public IP literals', () => {
    expect(reasonOf('https://93.184.216.34/cb', { allowInsecure: false })).toBeUndefined();
    expect(reasonOf('https://[2606:4700:4700::1111]:8443/cb', { allowInsecure: false })).toBeUndefined();
  });

  it.each([
    ['https://user:secret@spmis.example.org/cb', /credentials/],
    ['https://user@spmis.example.org/cb', /credentials/],
    ['http://user:pw@127.0.0.1:8080/cb', /credentials/],
    ['ftp://spmis.example.org/cb', /https/],
    ['file:///etc/passwd', /https/],
    ['javascript:alert(1)', /https/],
    ['gopher://spmis.example.org:70/', /https/],
    ['ws://spmis.example.org/cb', /https/],
    ['/relative/path', /absolute/],
    ['spmis.example.org/cb', /absolute/],
    ['', /absolute/],
    ['https://spmis.example.org/a b', /whitespace/],
    ['https://spmis.exa\tmple.org/cb', /whitespace/],
    [' https://spmis.example.org/cb', /whitespace/],
    [`https://spmis.example.org/${'a'.repeat(2100)}`, /longer/],
  ])('refuses %j', (url, reason) => {
    expect(reasonOf(url, { allowInsecure: true })).toMatch(reason);
  });

  describe('with a sender allow-list', () => {
    const local = { callbackAllow: ['http://127.0.0.1:*'] };
    const prefixed = { callbackAllow: ['https://spmis.example.org/dci/*/cb'] };

    it('an empty list allows any URL that passes the rules', () => {
      expect(reasonOf('https://anything.example.net/x', { allowInsecure: false, sender: { callbackAllow: [] } })).toBe(
        undefined,
      );
      expect(
        reasonOf('http://anything.example.net/x', { allowInsecure: false, sender: { callbackAllow: [] } }),
      ).toMatch(/https/);
    });

    it('http://127.0.0.1:* allows any port of 127.0.0.1, but only with the switch', () => {
      expect(reasonOf('http://127.0.0.1:9000/on-search', { allowInsecure: true, sender: local })).toBeUndefined();
      expect(reasonOf('http://127.0.0.1/on-search', { allowInsecure: true, sender: local })).toBeUndefined();
      // The allow-list never bypasses the safety rules.
      expect(reasonOf('http://127.0.0.1:9000/on-search', { allowInsecure: false, sender: local })).toMatch(/https/);
    });

    it('refuses URLs outside the list, even when insecure', () => {
      expect(reasonOf('http://127.0.0.2:9000/cb', { allowInsecure: true, sender: local })).toMatch(/allow-list/);
      expect(reasonOf('http://localhost:9000/cb', { allowInsecure: true, sender: local })).toMatch(/allow-list/);
      expect(reasonOf('https://127.0.0.1:9000/cb', { allowInsecure: true, sender: local })).toMatch(/allow-list/);
      expect(reasonOf('https://other.example.org/cb', { allowInsecure: false, sender: local })).toMatch(/allow-list/);
    });

    it('matches path segments', () => {
      expect(reasonOf('https://spmis.example.org/dci/v1/cb', { allowInsecure: false, sender: prefixed })).toBe(
        undefined,
      );
      expect(
        reasonOf('https://spmis.example.org/dci/v1/cb/on-search', { allowInsecure: false, sender: prefixed }),
      ).toBe(undefined);
      expect(reasonOf('https://spmis.example.org/dci/v1/other', { allowInsecure: false, sender: prefixed })).toMatch(
        /allow-list/,
      );
      expect(reasonOf('https://spmis.example.org:8443/dci/v1/cb', { allowInsecure: false, sender: prefixed })).toMatch(
        /allow-list/,
      );
    });

    it('an allow-listed private address is still refused without the switch', () => {
      const sender = { callbackAllow: ['https://10.0.0.5'] };
      expect(reasonOf('https://10.0.0.5/cb', { allowInsecure: false, sender })).toMatch(/private/);
      expect(reasonOf('https://10.0.0.5/cb', { allowInsecure: true, sender })).toBeUndefined();
    });
  });
});

// ---------------------------------------------------------------------------------------------
// postJson against local servers (127.0.0.1 only)

interface Seen {
  method: string | undefined;
  path: string | undefined;
  host: string | undefined;
  remoteAddress: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  port: number;
  seen: Seen[];
  connections: number;
  open: Set<Socket>;
  /** Closes the kept-alive connections that carry no request. */
  closeIdle(): void;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  make: () => Server = () => createServer(),
): Promise<TestServer> {
  const server = make();
  const state: TestServer = {
    port: 0,
    seen: [],
    connections: 0,
    open: new Set(),
    closeIdle: () => server.closeIdleConnections(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    state.open.add(socket);
    socket.on('close', () => state.open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.seen.push({
        method: req.method,
        path: req.url,
        host: req.headers.host,
        remoteAddress: req.socket.remoteAddress,
        headers: req.headers,
        body,
      });
      handler(req, res, body);
    });
  });
  state.port = await listen(server);
  return state;
}

/** Waits until the server holds no open connection: the client closed its socket. */
async function expectNoOpenSockets(server: TestServer): Promise<void> {
  await vi.waitFor(() => expect(server.open.size).toBe(0), { timeout: 3000, interval: 10 });
}

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

const ONE_MIB = 1024 * 1024;

describe('postJson', () => {
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startServer((req, res, body) => {
      switch (req.url) {
        case '/echo': {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-reply': 'yes' });
          res.end(
            JSON.stringify({
              method: req.method,
              host: req.headers.host,
              contentType: req.headers['content-type'],
              signature: req.headers.signature,
              received: JSON.parse(body) as unknown,
            }),
          );
          return;
        }
        case '/raw':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ raw: body }));
          return;
        case '/unavailable':
          res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '30' });
          res.end('down for maintenance');
          return;
        case '/unavailable-json':
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end('{"message":{"ack_status":"ERR"}}');
          return;
        case '/redirect':
          res.writeHead(302, { location: '/echo' });
          res.end('moved');
          return;
        case '/redirect-307':
          res.writeHead(307, { location: `http://127.0.0.1:${server.port}/echo` });
          res.end();
          return;
        case '/text':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('{"looks":"like json"}');
          return;
        case '/bad-json':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('not json {');
          return;
        case '/untyped':
          res.writeHead(200);
          res.end('{"ok":true}');
          return;
        case '/empty':
          res.writeHead(204);
          res.end();
          return;
        case '/exact': // exactly the limit: accepted
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': ONE_MIB });
          res.end('a'.repeat(ONE_MIB));
          return;
        case '/big': // announced too large
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 * ONE_MIB });
          res.end('a'.repeat(2 * ONE_MIB));
          return;
        case '/big-chunked': {
          // Not announced: found too large while reading.
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = 'b'.repeat(64 * 1024);
          for (let i = 0; i < 40; i++) res.write(chunk);
          res.end();
          return;
        }
        case '/slow-headers':
          return; // never answers
        case '/slow-body':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"partial":');
          return; // never ends
        case '/drip': {
          // Each chunk well within the body-idle timeout, the whole well over the deadline.
          res.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => res.write('.'), 50);
          res.on('close', () => clearInterval(timer));
          return;
        }
        default:
          res.writeHead(404);
          res.end();
      }
    });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server.close();
  });
  // Every test starts with no connection open (kept-alive ones from the test before are closed).
  beforeEach(async () => {
    server.closeIdle();
    await expectNoOpenSockets(server);
  });

  it('POSTs JSON and returns the parsed JSON answer', async () => {
    const answer = await postJson(
      `${base}/echo`,
      { message: { hello: 'wörld' } },
      { allowInsecure: true, headers: { Signature: 'sig-value' } },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['x-reply']).toBe('yes');
    expect(answer.body).toEqual({
      method: 'POST',
      host: `127.0.0.1:${server.port}`,
      contentType: 'application/json',
      signature: 'sig-value',
      received: { message: { hello: 'wörld' } },
    });
  });

  it('keeps the connection for the next call to the same origin, and closes it when idle', async () => {
    const before = server.connections;
    for (let n = 0; n < 6; n += 1) {
      expect((await postJson(`${base}/echo`, { n }, { allowInsecure: true })).status).toBe(200);
    }
    // Six calls one after the other: one or two connections (a call may start before the last
    // one's connection is back in the agent), not six.
    expect(server.connections - before).toBeLessThanOrEqual(2);
    await vi.waitFor(() => expect(server.open.size).toBe(0), { timeout: 8000, interval: 50 });
  });

  it('sends a string body byte for byte (what was signed is what is sent)', async () => {
    const exact = '{"b":2,  "a":1}';
    const answer = await postJson(`${base}/raw`, exact, { allowInsecure: true });
    expect(answer.body).toEqual({ raw: exact });
  });

  it('ignores a caller-supplied Host header', async () => {
    const answer = await postJson(`${base}/echo`, {}, { allowInsecure: true, headers: { Host: 'evil.example' } });
    expect((answer.body as { host: string }).host).toBe(`127.0.0.1:${server.port}`);
  });

  it('returns a 503 as an answer, with its text body', async () => {
    const answer = await postJson(`${base}/unavailable`, {}, { allowInsecure: true });
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('30');
    expect(answer.body).toBe('down for maintenance');
    const json = await postJson(`${base}/unavailable-json`, {}, { allowInsecure: true });
    expect(json).toMatchObject({ status: 503, body: { message: { ack_status: 'ERR' } } });
  });

  it('returns a 302 as is and does not follow it', async () => {
    const before = server.seen.length;
    const answer = await postJson(`${base}/redirect`, { a: 1 }, { allowInsecure: true });
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe('/echo');
    expect(answer.body).toBe('moved');
    const answer307 = await postJson(`${base}/redirect-307`, { a: 1 }, { allowInsecure: true });
    expect(answer307.status).toBe(307);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.seen.slice(before).map((s) => s.path)).toEqual(['/redirect', '/redirect-307']);
  });

  it('parses JSON only when the answer is JSON (or untyped)', async () => {
    expect((await postJson(`${base}/text`, {}, { allowInsecure: true })).body).toBe('{"looks":"like json"}');
    expect((await postJson(`${base}/bad-json`, {}, { allowInsecure: true })).body).toBe('not json {');
    expect((await postJson(`${base}/untyped`, {}, { allowInsecure: true })).body).toEqual({ ok: true });
    expect(await postJson(`${base}/empty`, {}, { allowInsecure: true })).toMatchObject({ status: 204, body: '' });
  });

  it('times out a server that sends no headers, and closes the socket', async () => {
    const started = Date.now();
    const error = await failure(postJson(`${base}/slow-headers`, {}, { allowInsecure: true, timeoutMs: 300 }));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
    await expectNoOpenSockets(server);
  });

  it('times out a body that never ends', async () => {
    const error = await failure(postJson(`${base}/slow-body`, {}, { allowInsecure: true, timeoutMs: 300 }));
    expect(error.kind).toBe('timeout');
    await expectNoOpenSockets(server);
  });

  it('times out a body that drips forever (the deadline covers the whole call)', async () => {
    const started = Date.now();
    const error = await failure(postJson(`${base}/drip`, {}, { allowInsecure: true, timeoutMs: 400 }));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
    await expectNoOpenSockets(server);
  });

  it('accepts a body of exactly the limit', async () => {
    expect(MAX_RESPONSE_BYTES).toBe(ONE_MIB);
    const answer = await postJson(`${base}/exact`, {}, { allowInsecure: true });
    expect((answer.body as string).length).toBe(ONE_MIB);
  });

  it('refuses an oversized body, announced or not, and closes the socket', async () => {
    const announced = await failure(postJson(`${base}/big`, {}, { allowInsecure: true }));
    expect(announced.kind).toBe('too_large');
    const chunked = await failure(postJson(`${base}/big-chunked`, {}, { allowInsecure: true }));
    expect(chunked.kind).toBe('too_large');
    const small = await failure(
      postJson(`${base}/echo`, { a: 'x'.repeat(100) }, { allowInsecure: true, maxResponseBytes: 10 }),
    );
    expect(small.kind).toBe('too_large');
    await expectNoOpenSockets(server);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = await startServer(() => undefined);
    const port = closed.port;
    await closed.close();
    const error = await failure(postJson(`http://127.0.0.1:${port}/cb`, {}, { allowInsecure: true, timeoutMs: 2000 }));
    expect(error.kind).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('refuses loopback without the switch: no connection reaches the server', async () => {
    const connectionsBefore = server.connections;
    const seenBefore = server.seen.length;
    const lookup = vi.fn<HostLookup>(async () => [{ address: '127.0.0.1', family: 4 }]);
    for (const url of [
      `${base}/echo`,
      `https://127.0.0.1:${server.port}/echo`,
      `https://callback.invalid:${server.port}/echo`,
    ]) {
      const error = await failure(postJson(url, { a: 1 }, { allowInsecure: false, lookup }));
      expect(error.kind, url).toBe('refused');
    }
    expect(lookup).toHaveBeenCalledTimes(1); // only the host name was resolved
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections).toBe(connectionsBefore);
    expect(server.seen.length).toBe(seenBefore);
  });

  it('connects to exactly the vetted address: no second lookup (DNS rebinding)', async () => {
    // First answer 127.0.0.1 (vetted, allowed by the switch); any later answer 127.0.0.2, where
    // nothing listens. A second resolution, ours or the system's (which cannot resolve the
    // name at all), would fail the call.
    const lookup = vi
      .fn<HostLookup>()
      .mockResolvedValueOnce([{ address: '127.0.0.1', family: 4 }])
      .mockResolvedValue([{ address: '127.0.0.2', family: 4 }]);
    const seenBefore = server.seen.length;
    const answer = await postJson(
      `http://rebind.invalid:${server.port}/echo`,
      { n: 1 },
      { allowInsecure: true, lookup },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ host: `rebind.invalid:${server.port}`, received: { n: 1 } });
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(lookup).toHaveBeenCalledWith('rebind.invalid');
    const seen = server.seen.slice(seenBefore);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ host: `rebind.invalid:${server.port}`, remoteAddress: '127.0.0.1' });
    // The kept connection is to the address vetted then: once the name resolves elsewhere, it is
    // not reused (the call goes to 127.0.0.2, where nothing listens).
    const moved = await failure(
      postJson(`http://rebind.invalid:${server.port}/echo`, { n: 2 }, { allowInsecure: true, lookup }),
    );
    expect(moved.kind).toBe('network');
    expect(server.seen.slice(seenBefore)).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// https: the pinned connection keeps the name for SNI and the certificate check

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasOpenssl())('postJson over https', () => {
  let dir: string;
  let server: TestServer;
  const sni: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opendci-outbound-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=callback.invalid',
        '-addext',
        'subjectAltName=DNS:callback.invalid',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    server = await startServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      },
      () =>
        createHttpsServer({
          key,
          cert,
          SNICallback: (name, cb) => {
            sni.push(name);
            cb(null, createSecureContext({ key, cert }));
          },
        }),
    );
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the URL host as SNI to the pinned address and still verifies the certificate', async () => {
    const lookup = vi.fn<HostLookup>(async () => [{ address: '127.0.0.1', family: 4 }]);
    const error = await failure(
      postJson(`https://callback.invalid:${server.port}/cb`, {}, { allowInsecure: true, lookup, timeoutMs: 3000 }),
    );
    // Self-signed: an untrusted certificate is a network error, never silently accepted.
    expect(error.kind).toBe('network');
    expect(sni).toEqual(['callback.invalid']);
    expect(server.seen).toHaveLength(0);
    expect(lookup).toHaveBeenCalledTimes(1);
  });
});
