/**
 * Callback auth in the sender registry: validated, secrets sealed under the key-encryption key,
 * shown as kind / token URL / client id only, read back in clear only through callbackAuth().
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import { openSecret, SealedSecretError, sealSecret } from './secrets.js';
import { parseCallbackAuth, SenderError, SenderStore } from './senders.js';

describe('sealed secrets', () => {
  const kek = randomBytes(32);

  it('round-trips under the key, bound to its context', () => {
    const sealed = sealSecret('tok-123', 'ctx-a', kek);
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('tok-123');
    expect(sealSecret('tok-123', 'ctx-a', kek)).not.toBe(sealed);
    expect(openSecret(sealed, 'ctx-a', kek)).toBe('tok-123');
    expect(() => openSecret(sealed, 'ctx-b', kek)).toThrow(/does not decrypt ctx-b/);
    expect(() => openSecret(sealed, 'ctx-a', randomBytes(32))).toThrow(SealedSecretError);
    expect(() => openSecret(sealed, 'ctx-a', undefined)).toThrow(/stored encrypted: set DCI_KEY_ENCRYPTION_KEY/);
    expect(() => openSecret('enc:v1:AAAA:BBBB', 'ctx-a', kek)).toThrow(/malformed/);
  });

  it('stores plain text without a key, readable with or without one', () => {
    expect(sealSecret('tok', 'c', undefined)).toBe('plain:tok');
    expect(openSecret('plain:tok', 'c', undefined)).toBe('tok');
    expect(openSecret('plain:tok', 'c', kek)).toBe('tok');
    expect(() => sealSecret('tok', 'c', randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('parseCallbackAuth', () => {
  it('accepts a bearer token and OAuth2 client credentials', () => {
    expect(parseCallbackAuth({ kind: 'bearer', token: 'abc.DEF_-~+/=' })).toEqual({
      kind: 'bearer',
      token: 'abc.DEF_-~+/=',
    });
    expect(
      parseCallbackAuth({
        kind: 'oauth2',
        tokenUrl: 'https://spmis.example.org/oauth2/token',
        clientId: ' opendci ',
        clientSecret: 's',
      }),
    ).toEqual({
      kind: 'oauth2',
      tokenUrl: 'https://spmis.example.org/oauth2/token',
      clientId: 'opendci',
      clientSecret: 's',
    });
    expect(parseCallbackAuth(null)).toBeNull();
  });

  it.each([
    [{ kind: 'bearer', token: '' }, /must not be empty/],
    [{ kind: 'bearer', token: 'two words' }, /visible ASCII/],
    [{ kind: 'bearer', token: 'x'.repeat(5000) }, /longer than 4096/],
    [{ kind: 'oauth2', tokenUrl: 'nope', clientId: 'c', clientSecret: 's' }, /callback token URL must be an absolute/],
    [
      { kind: 'oauth2', tokenUrl: 'https://u:p@x.org/t', clientId: 'c', clientSecret: 's' },
      /must not carry credentials/,
    ],
    [{ kind: 'oauth2', tokenUrl: 'https://x.org/t', clientId: '', clientSecret: 's' }, /needs a client id/],
    [{ kind: 'oauth2', tokenUrl: 'https://x.org/t', clientId: 'c', clientSecret: '' }, /needs a client secret/],
    [{ kind: 'basic', token: 'x' }, /must be bearer or oauth2/],
  ])('refuses %j', (input, message) => {
    expect(() => parseCallbackAuth(input as never)).toThrow(SenderError);
    expect(() => parseCallbackAuth(input as never)).toThrow(message);
  });
});

describeBackends('sender callback auth', (ctx) => {
  const kek = randomBytes(32);

  async function storedJson(id: string): Promise<string> {
    const row = await ctx.database.db
      .selectFrom('sender')
      .select('callback_auth')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return JSON.stringify(row.callback_auth);
  }

  it('stores a bearer token encrypted, shows only its kind, and reads it back', async () => {
    const store = new SenderStore(ctx.database.db, { keyEncryptionKey: kek });
    const sender = await store.add({
      id: 'bearer-1',
      clientSecret: 's',
      callbackAuth: { kind: 'bearer', token: 'bearer-SECRET-1' },
    });
    expect(sender.callbackAuth).toEqual({ kind: 'bearer', encrypted: true });
    expect(JSON.stringify(sender)).not.toContain('bearer-SECRET-1');
    expect(await storedJson('bearer-1')).not.toContain('bearer-SECRET-1');
    expect(await store.callbackAuth('bearer-1')).toEqual({ kind: 'bearer', token: 'bearer-SECRET-1' });
    expect((await store.get('bearer-1'))?.callbackAuth).toEqual({ kind: 'bearer', encrypted: true });
    expect(JSON.stringify(await store.list())).not.toContain('bearer-SECRET-1');
    expect(await store.callbackAuth('nobody')).toBeNull();
  });

  it('switches to OAuth2, leaves it alone on other updates, and clears it with null', async () => {
    const store = new SenderStore(ctx.database.db, { keyEncryptionKey: kek });
    await store.add({ id: 'oauth-1', clientSecret: 's' });
    expect(await store.callbackAuth('oauth-1')).toBeNull();
    const updated = await store.update('oauth-1', {
      callbackAuth: {
        kind: 'oauth2',
        tokenUrl: 'https://spmis.example.org/oauth2/token',
        clientId: 'opendci',
        clientSecret: 'oauth-SECRET-2',
      },
    });
    expect(updated.callbackAuth).toEqual({
      kind: 'oauth2',
      tokenUrl: 'https://spmis.example.org/oauth2/token',
      clientId: 'opendci',
      encrypted: true,
    });
    expect(await storedJson('oauth-1')).not.toContain('oauth-SECRET-2');
    expect((await store.update('oauth-1', { name: 'x' })).callbackAuth?.kind).toBe('oauth2');
    expect(await store.callbackAuth('oauth-1')).toMatchObject({ clientSecret: 'oauth-SECRET-2' });
    expect((await store.update('oauth-1', { callbackAuth: null })).callbackAuth).toBeNull();
    expect(await store.callbackAuth('oauth-1')).toBeNull();
  });

  it('binds a sealed secret to its sender: copied to another row it does not open', async () => {
    const store = new SenderStore(ctx.database.db, { keyEncryptionKey: kek });
    await store.add({ id: 'victim', clientSecret: 's', callbackAuth: { kind: 'bearer', token: 'victim-token' } });
    await store.add({ id: 'thief', clientSecret: 's' });
    const row = await ctx.database.db
      .selectFrom('sender')
      .select('callback_auth')
      .where('id', '=', 'victim')
      .executeTakeFirstOrThrow();
    await ctx.database.db
      .updateTable('sender')
      .set({ callback_auth: JSON.stringify(row.callback_auth) })
      .where('id', '=', 'thief')
      .execute();
    await expect(store.callbackAuth('thief')).rejects.toThrow(SealedSecretError);
  });

  it('stores in clear without a key-encryption key, and says so', async () => {
    const store = new SenderStore(ctx.database.db);
    const sender = await store.add({ id: 'plain-1', clientSecret: 's', callbackAuth: { kind: 'bearer', token: 't' } });
    expect(sender.callbackAuth).toEqual({ kind: 'bearer', encrypted: false });
    expect(await store.callbackAuth('plain-1')).toEqual({ kind: 'bearer', token: 't' });
  });

  it('refuses bad callback auth before writing anything', async () => {
    const store = new SenderStore(ctx.database.db, { keyEncryptionKey: kek });
    await expect(
      store.add({ id: 'bad-1', clientSecret: 's', callbackAuth: { kind: 'bearer', token: 'a b' } }),
    ).rejects.toThrow(/visible ASCII/);
    expect(await store.get('bad-1')).toBeUndefined();
    await expect(store.update('nobody', { callbackAuth: { kind: 'bearer', token: 'fine' } })).rejects.toThrow(
      /no sender "nobody"/,
    );
  });
});
