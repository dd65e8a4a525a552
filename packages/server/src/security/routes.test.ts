/**
 * The token endpoint and the JWKS over a real store, through Fastify's inject: RFC 6749 client
 * credentials (form and JSON, post and Basic), RFC 6749 error bodies, JWT claims checked against
 * the served JWKS, and key rotation.
 */
import { DciError } from '@opendci/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import { OAuthError, TokenService } from './oauth.js';
import { parseBasicAuth, parseForm, securityRoutes } from './routes.js';
import { SenderStore } from './senders.js';
import { ServerKeys } from './server-keys.js';

const config = { baseUrl: 'http://localhost:8080', serverId: 'opendci' };

function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

function form(values: Record<string, string>): string {
  return new URLSearchParams(values).toString();
}

describe('request parsing', () => {
  it('decodes Basic credentials per RFC 6749 §2.3.1', () => {
    expect(parseBasicAuth(basic('a:b c', 'p@ss:wörd+'))).toEqual({ clientId: 'a:b c', clientSecret: 'p@ss:wörd+' });
    expect(parseBasicAuth('Bearer x')).toBeUndefined();
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(() => parseBasicAuth('Basic !!!')).toThrow(OAuthError);
    expect(() => parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toThrow(OAuthError);
  });

  it('refuses a repeated token parameter', () => {
    expect(parseForm('grant_type=client_credentials&x=1&x=2')).toEqual({ grant_type: 'client_credentials', x: '2' });
    expect(() => parseForm('client_id=a&client_id=b')).toThrow(/client_id is repeated/);
  });
});

describeBackends('oauth2 token endpoint and JWKS', (ctx) => {
  let app: FastifyInstance;
  let senders: SenderStore;
  let serverKeys: ServerKeys;
  let tokens: TokenService;
  const clock = { now: Date.now() };

  beforeAll(async () => {
    const { db } = ctx.database;
    senders = new SenderStore(db);
    serverKeys = await ServerKeys.load(db, { now: () => clock.now });
    tokens = TokenService.fromConfig(config, senders, serverKeys, { now: () => clock.now });
    await senders.add({ id: 'test-client', clientSecret: 's3cret', signaturePolicy: 'optional' });
    await senders.add({ id: 'narrow', clientSecret: 'n', operations: 'search,verify' });
    await senders.add({ id: 'boss', clientSecret: 'b', operations: 'all,admin' });
    await senders.add({ id: 'gone', clientSecret: 'g' });
    await senders.disable('gone');
    app = Fastify({ logger: false });
    await app.register(securityRoutes, { tokens, serverKeys });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function token(payload: string | Record<string, string>, headers: Record<string, string> = {}) {
    const isForm = typeof payload === 'string';
    return app.inject({
      method: 'POST',
      url: '/oauth2/client/token',
      headers: { 'content-type': isForm ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
      payload,
    });
  }

  async function jwks(): Promise<JSONWebKeySet> {
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return res.json();
  }

  it('issues a token for a form post (client_secret_post) that verifies against the served JWKS', async () => {
    const res = await token(
      form({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 's3cret' }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    const body = res.json();
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'search subscribe unsubscribe txn-status verify',
    });

    const header = decodeProtectedHeader(body.access_token);
    expect(header).toEqual({ alg: 'EdDSA', kid: serverKeys.active().kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(await jwks()), {
      issuer: config.baseUrl,
      audience: config.serverId,
      currentDate: new Date(clock.now),
    });
    expect(payload).toMatchObject({ iss: config.baseUrl, sub: 'test-client', aud: 'opendci', scope: body.scope });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);

    expect(await tokens.verify(body.access_token)).toEqual({
      sub: 'test-client',
      scope: ['search', 'subscribe', 'unsubscribe', 'txn-status', 'verify'],
      exp: payload.exp,
      jti: payload.jti,
    });
    expect((await tokens.verify(`Bearer ${body.access_token}`)).sub).toBe('test-client');
  });

  it('accepts JSON and HTTP Basic (client_secret_basic)', async () => {
    const json = await token({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 's3cret' });
    expect(json.statusCode).toBe(200);
    const viaBasic = await token(form({ grant_type: 'client_credentials' }), {
      authorization: basic('test-client', 's3cret'),
    });
    expect(viaBasic.statusCode).toBe(200);
    expect((await tokens.verify(viaBasic.json().access_token)).sub).toBe('test-client');
    // client_id may be repeated in the body if it is the same
    const both = await token(form({ grant_type: 'client_credentials', client_id: 'test-client' }), {
      authorization: basic('test-client', 's3cret'),
    });
    expect(both.statusCode).toBe(200);
  });

  it('answers the same invalid_client (401) for a wrong secret, an unknown client and a disabled one', async () => {
    const attempts = [
      form({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 'wrong' }),
      form({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 's3cret' }),
      form({ grant_type: 'client_credentials', client_id: 'gone', client_secret: 'g' }),
      form({ grant_type: 'client_credentials', client_id: 'test-client' }),
      form({ grant_type: 'client_credentials' }),
    ];
    for (const payload of attempts) {
      const res = await token(payload);
      expect(res.statusCode, payload).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
    const viaBasic = await token(form({ grant_type: 'client_credentials' }), {
      authorization: basic('test-client', 'wrong'),
    });
    expect(viaBasic.statusCode).toBe(401);
    expect(viaBasic.json().error).toBe('invalid_client');
    expect(viaBasic.headers['www-authenticate']).toMatch(/^Basic realm="dci"/);
  });

  it('refuses other grant types and malformed requests with RFC 6749 errors', async () => {
    const cases: [() => Promise<{ statusCode: number; json(): unknown }>, number, string][] = [
      [
        () => token(form({ grant_type: 'password', client_id: 'test-client', client_secret: 's3cret' })),
        400,
        'unsupported_grant_type',
      ],
      [() => token(form({ client_id: 'test-client', client_secret: 's3cret' })), 400, 'invalid_request'],
      [() => token('grant_type=client_credentials&grant_type=client_credentials'), 400, 'invalid_request'],
      [() => token('{"grant_type": ', { 'content-type': 'application/json' }), 400, 'invalid_request'],
      [() => token({ grant_type: 'client_credentials', client_id: 42 } as never), 400, 'invalid_request'],
      [() => token('["x"]', { 'content-type': 'application/json' }), 400, 'invalid_request'],
      [
        () =>
          app.inject({
            method: 'POST',
            url: '/oauth2/client/token',
            headers: { 'content-type': 'text/xml' },
            payload: '<x/>',
          }),
        400,
        'invalid_request',
      ],
      [
        () =>
          token(form({ grant_type: 'client_credentials', client_secret: 's3cret' }), {
            authorization: basic('test-client', 's3cret'),
          }),
        400,
        'invalid_request',
      ],
      [
        () =>
          token(form({ grant_type: 'client_credentials', client_id: 'other' }), {
            authorization: basic('test-client', 's3cret'),
          }),
        400,
        'invalid_request',
      ],
      [() => token(`grant_type=client_credentials&x=${'y'.repeat(20_000)}`), 413, 'invalid_request'],
    ];
    for (const [send, status, error] of cases) {
      const res = await send();
      expect(res.statusCode, String(send)).toBe(status);
      expect(res.json()).toMatchObject({ error });
    }
  });

  it('narrows the scope on request and refuses scopes the client does not have', async () => {
    const narrowed = await token(
      form({
        grant_type: 'client_credentials',
        client_id: 'test-client',
        client_secret: 's3cret',
        scope: 'verify search',
      }),
    );
    expect(narrowed.json().scope).toBe('search verify');
    expect((await tokens.verify(narrowed.json().access_token)).scope).toEqual(['search', 'verify']);

    const aliases = await token(
      form({ grant_type: 'client_credentials', client_id: 'narrow', client_secret: 'n', scope: 'registry.search' }),
    );
    expect(aliases.json().scope).toBe('search');
    expect(
      (await token(form({ grant_type: 'client_credentials', client_id: 'narrow', client_secret: 'n' }))).json().scope,
    ).toBe('search verify');

    for (const scope of ['subscribe', 'admin', 'search teleport']) {
      const res = await token(
        form({ grant_type: 'client_credentials', client_id: 'narrow', client_secret: 'n', scope }),
      );
      expect(res.statusCode, scope).toBe(400);
      expect(res.json().error).toBe('invalid_scope');
    }
  });

  it('grants admin only to a client that has it', async () => {
    const res = await token(form({ grant_type: 'client_credentials', client_id: 'boss', client_secret: 'b' }));
    expect(res.json().scope).toBe('search subscribe unsubscribe txn-status verify admin');
    const admin = await token(
      form({ grant_type: 'client_credentials', client_id: 'boss', client_secret: 'b', scope: 'admin' }),
    );
    expect(admin.json().scope).toBe('admin');
  });

  it('verify() is stateless: a disabled sender is refused by the request pipeline, not here', async () => {
    await senders.add({ id: 'soon-gone', clientSecret: 'x' });
    const res = await token(form({ grant_type: 'client_credentials', client_id: 'soon-gone', client_secret: 'x' }));
    await senders.disable('soon-gone');
    const verified = await tokens.verify(res.json().access_token);
    expect(verified.sub).toBe('soon-gone');
    expect((await senders.get(verified.sub))?.active).toBe(false);
    // and it gets no new token
    const again = await token(form({ grant_type: 'client_credentials', client_id: 'soon-gone', client_secret: 'x' }));
    expect(again.statusCode).toBe(401);
  });

  it('refuses bad, tampered, foreign and expired tokens with err.request.unauthorized', async () => {
    const good = (
      await token(form({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 's3cret' }))
    ).json().access_token as string;
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'boss' })).toString('base64url')}.${s}`;
    const otherAudience = TokenService.fromConfig({ ...config, serverId: 'elsewhere' }, senders, serverKeys, {
      now: () => clock.now,
    });
    const otherIssuer = TokenService.fromConfig({ ...config, baseUrl: 'https://other' }, senders, serverKeys, {
      now: () => clock.now,
    });
    const cases: [() => Promise<unknown>, string][] = [
      [() => tokens.verify(''), 'missing'],
      [() => tokens.verify('Bearer '), 'missing'],
      [() => tokens.verify('not.a.jwt'), 'malformed'],
      [() => tokens.verify(forged), 'invalid'],
      [() => otherAudience.verify(good), 'invalid'],
      [() => otherIssuer.verify(good), 'invalid'],
      [
        () => tokens.verify(`${Buffer.from('{"alg":"EdDSA","kid":"nope"}').toString('base64url')}.${p}.${s}`),
        'unknown_kid',
      ],
      [() => tokens.verify(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`), 'unknown_kid'],
    ];
    for (const [run, detail] of cases) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, detail).toBeInstanceOf(DciError);
      expect(error).toMatchObject({ code: 'err.request.unauthorized', status: 401, detail });
    }

    // expired: a service with a later clock that has not cached the token
    const later = TokenService.fromConfig(config, senders, serverKeys, { now: () => clock.now + 3631_000 });
    await expect(later.verify(good)).rejects.toMatchObject({ code: 'err.request.unauthorized', detail: 'expired' });
    // within the 30 s tolerance it is still good
    const almost = TokenService.fromConfig(config, senders, serverKeys, { now: () => clock.now + 3610_000 });
    expect((await almost.verify(good)).sub).toBe('test-client');
  });

  it('caches verified tokens, bounded', async () => {
    const small = TokenService.fromConfig(config, senders, serverKeys, { now: () => clock.now, cacheSize: 2 });
    const issued = await Promise.all(
      [1, 2, 3].map(() => tokens.issue({ clientId: 'narrow', clientSecret: 'n' }).then((t) => t.access_token)),
    );
    for (const t of issued) await small.verify(t);
    expect((small as unknown as { cache: Map<string, unknown> }).cache.size).toBe(2);
  });

  it('keeps tokens of the previous key valid during the rotation overlap, and both keys in the JWKS', async () => {
    const before = (
      await token(form({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 's3cret' }))
    ).json().access_token as string;
    const oldKid = serverKeys.active().kid;
    const fresh = await serverKeys.rotate({ overlapSeconds: 7200 });

    const set = await jwks();
    expect(set.keys.map((k) => k.kid)).toEqual([fresh.kid, oldKid]);
    expect(set.keys.every((k) => k.use === 'sig' && k.alg === 'EdDSA')).toBe(true);

    const after = (
      await token(form({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 's3cret' }))
    ).json().access_token as string;
    expect(decodeProtectedHeader(after).kid).toBe(fresh.kid);

    const verifier = TokenService.fromConfig(config, senders, serverKeys, { now: () => clock.now });
    const localSet = createLocalJWKSet(set);
    for (const t of [before, after]) {
      expect((await verifier.verify(t)).sub).toBe('test-client');
      await jwtVerify(t, localSet, { currentDate: new Date(clock.now) });
    }

    // after the overlap the old key is gone from the JWKS and from verification
    clock.now += 7201_000;
    try {
      expect((await jwks()).keys.map((k) => k.kid)).toEqual([fresh.kid]);
      const late = TokenService.fromConfig(config, senders, serverKeys, {
        now: () => clock.now,
        lifetimeSeconds: 3600,
      });
      await expect(late.verify(before)).rejects.toMatchObject({ detail: 'unknown_kid' });
    } finally {
      clock.now -= 7201_000;
    }
  });

  it('issue() checks the grant type itself too', async () => {
    await expect(
      tokens.issue({ grantType: 'authorization_code', clientId: 'test-client', clientSecret: 's3cret' }),
    ).rejects.toMatchObject({ status: 400, error: 'unsupported_grant_type' });
    await expect(tokens.issue({ clientId: 'test-client', clientSecret: 'nope' })).rejects.toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });
});
