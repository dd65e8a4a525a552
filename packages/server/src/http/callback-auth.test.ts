/**
 * The app's wiring of callback auth and of JWKS fetches: a sender whose callback auth is OAuth2
 * (secrets sealed under DCI_KEY_ENCRYPTION_KEY) gets its on-search with a token from its own
 * token endpoint; a signed request whose key comes from the sender's JWKS URL leaves a `jwks`
 * audit row.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { publicJwk, requestHeader, searchRequestMessage, signMessage } from '@opendci/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { SenderStore } from '../security/senders.js';
import { describeBackends } from '../test-support/backends.js';
import { buildApp } from './app.js';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

describeBackends('callback auth and JWKS in the app', (ctx) => {
  let app: FastifyInstance;
  let peer: Server;
  let base = '';
  const callbacks: { headers: IncomingHttpHeaders; body: { message: { transaction_id: string } } }[] = [];
  const tokenRequests: URLSearchParams[] = [];
  const jwksRequests: string[] = [];
  const issued = `peer-token-${randomBytes(6).toString('hex')}`;
  const signingKey = generateKeyPairSync('ed25519');
  let token = '';

  beforeAll(async () => {
    // One peer: its token endpoint, its JWKS and its callback receiver (which wants its token).
    peer = createServer((req, res) => {
      void readBody(req).then((data) => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/oauth2/token') {
          tokenRequests.push(new URLSearchParams(data));
          res.end(JSON.stringify({ access_token: issued, token_type: 'Bearer', expires_in: 3600 }));
        } else if (req.url === '/jwks.json') {
          jwksRequests.push(req.url);
          res.end(JSON.stringify({ keys: [{ ...publicJwk(signingKey.publicKey), kid: 'peer-1' }] }));
        } else {
          const ok = req.headers.authorization === `Bearer ${issued}`;
          if (ok)
            callbacks.push({ headers: req.headers, body: JSON.parse(data) as (typeof callbacks)[number]['body'] });
          res.writeHead(ok ? 200 : 401);
          res.end(JSON.stringify({ message: { ack_status: ok ? 'ACK' : 'ERR' } }));
        }
      });
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;

    const kek = randomBytes(32);
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      DCI_ALLOW_INSECURE_CALLBACKS: 'true',
      DCI_KEY_ENCRYPTION_KEY: kek.toString('base64'),
      DCI_CALLBACK_RETRY_DELAY: '1',
    });
    app = await buildApp(config, { database: ctx.database, logger: false });
    await new SenderStore(ctx.database.db, { keyEncryptionKey: kek }).add({
      id: 'peer',
      clientSecret: 's3cret',
      signaturePolicy: 'required',
      jwksUrl: `${base}/jwks.json`,
      callbackAllow: ['http://127.0.0.1:*'],
      callbackAuth: {
        kind: 'oauth2',
        tokenUrl: `${base}/oauth2/token`,
        clientId: 'opendci',
        clientSecret: 'peer-client-secret',
      },
    });
    token = (await app.tokens.issue({ clientId: 'peer', clientSecret: 's3cret', grantType: 'client_credentials' }))
      .access_token;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    peer?.closeAllConnections();
    await new Promise((resolve) => peer?.close(resolve));
  });

  it('verifies a signature with the JWKS key, audited, and calls back with an OAuth2 token', async () => {
    const message = searchRequestMessage({
      transactionId: 'txn-cb-auth',
      items: [{ referenceId: 'r-1', criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: '1' } } }],
    });
    const header = requestHeader({
      action: 'search',
      senderId: 'peer',
      totalCount: 1,
      senderUri: `${base}/dci/on-search`,
    });
    const signature = signMessage(
      { header, message },
      { senderId: 'peer', kid: 'peer-1', privateKey: signingKey.privateKey },
    );
    const res = await app.inject({
      method: 'POST',
      url: '/registry/search',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: { signature, header, message },
    });
    expect(res.statusCode).toBe(202);
    expect(jwksRequests).toHaveLength(1);
    const jwksRow = await ctx.database.db
      .selectFrom('dci_transaction')
      .select(['direction', 'sender_id', 'receiver_id', 'status', 'http_status', 'path'])
      .where('action', '=', 'jwks')
      .executeTakeFirstOrThrow();
    expect(jwksRow).toEqual({
      direction: 'outbound',
      sender_id: 'opendci',
      receiver_id: 'peer',
      status: 'succ',
      http_status: 200,
      path: `${base}/jwks.json`,
    });

    await expect
      .poll(() => callbacks.some((c) => c.body.message.transaction_id === 'txn-cb-auth'), { timeout: 20_000 })
      .toBe(true);
    expect(tokenRequests).toHaveLength(1);
    expect(Object.fromEntries(tokenRequests[0]!)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'opendci',
      client_secret: 'peer-client-secret',
    });
    // The attempt is audited once its answer is in: shortly after the receiver saw it.
    const outbound = () =>
      ctx.database.db
        .selectFrom('dci_transaction')
        .select(['action', 'status'])
        .where('transaction_id', '=', 'txn-cb-auth')
        .where('direction', '=', 'outbound')
        .execute();
    await expect.poll(outbound, { timeout: 10_000 }).toEqual(
      expect.arrayContaining([
        { action: 'token', status: 'succ' },
        { action: 'on-search', status: 'delivered' },
      ]),
    );
  }, 40_000);
});
