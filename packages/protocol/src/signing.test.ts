import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DciError } from './errors.js';
import { parseSignature } from './signature.js';
import type { SignatureAlgorithm } from './signature.js';
import {
  algorithmForKey,
  canonicalMessage,
  jwkThumbprint,
  messageDigest,
  publicJwk,
  signedBody,
  signMessage,
  signingString,
  verifyMessage,
  verifyMessageAsync,
} from './signing.js';
import type { SignedEnvelope, VerifyOptions } from './signing.js';
import { envelopeVector, testKeys, vectors } from './test-support/vectors.js';

const ALGORITHMS: SignatureAlgorithm[] = ['ed25519', 'rsa-sha256'];
const FORMS = ['jcs', 'openspp'] as const;
const NOW = vectors.created + 10;

function resolver(key: KeyObject | undefined): VerifyOptions<KeyObject | undefined> {
  return { resolveKey: () => key, now: NOW };
}

function rejects(envelope: SignedEnvelope, options: VerifyOptions<KeyObject | undefined>, detail: string): DciError {
  let caught: unknown;
  try {
    verifyMessage(envelope, options);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DciError);
  const error = caught as DciError;
  expect(error.detail).toBe(detail);
  expect(error.code).toBe(detail === 'missing' ? 'err.signature.missing' : 'err.signature.invalid');
  expect(error.status).toBe(401);
  return error;
}

describe('vectors (computed with Python: json, hashlib, cryptography)', () => {
  it('key ids are the RFC 7638 thumbprints', () => {
    for (const algorithm of ALGORITHMS) {
      const key = testKeys[algorithm];
      expect(jwkThumbprint(key.publicKey)).toBe(key.kid);
      expect(jwkThumbprint(key.privateKey)).toBe(key.kid);
      expect(algorithmForKey(key.privateKey)).toBe(algorithm);
    }
  });

  describe.each(vectors.envelopes.map((e) => [e.name, e] as const))('%s', (_name, e) => {
    it.each(FORMS)('%s: digest and signing string', (form) => {
      const v = e[form];
      expect(canonicalMessage(e, form)).toBe(v.canonical);
      expect(messageDigest(e, form)).toBe(v.digest);
      expect(signingString(vectors.created, vectors.expires, v.digest)).toBe(v.signingString);
    });

    it.each(FORMS.flatMap((form) => ALGORITHMS.map((algorithm) => [form, algorithm] as const)))(
      '%s %s: re-signing reproduces the signature byte for byte, and it verifies',
      (form, algorithm) => {
        const key = testKeys[algorithm];
        const expected = e[form].signatures[algorithm];
        const signature = signMessage(e, {
          senderId: vectors.senderId,
          kid: key.kid,
          algorithm,
          privateKey: key.privateKey,
          canonical: form,
          now: vectors.created,
        });
        expect(signature).toBe(expected);
        const result = verifyMessage({ ...e, signature: expected }, resolver(key.publicKey));
        // Where both forms give the same bytes, the JCS attempt already verifies.
        const sameBytes = e.jcs.canonical === e.openspp.canonical;
        expect(result).toEqual({
          senderId: vectors.senderId,
          kid: key.kid,
          algorithm,
          canonical: sameBytes ? 'jcs' : form,
          created: vectors.created,
          expires: vectors.expires,
        });
      },
    );
  });
});

describe('sign and verify', () => {
  const e = envelopeVector('non-ascii-on-search');
  const ed = testKeys.ed25519;
  const rsa = testKeys['rsa-sha256'];

  function sign(envelope = e, key = ed, extra: Partial<Parameters<typeof signMessage>[1]> = {}): string {
    return signMessage(envelope, { senderId: 'opendci', kid: key.kid, privateKey: key.privateKey, now: NOW, ...extra });
  }

  it.each(ALGORITHMS)('round-trips %s with defaults (now, ttl 300, JCS)', (algorithm) => {
    const key = testKeys[algorithm];
    const signature = signMessage(e, { senderId: 'opendci', kid: key.kid, privateKey: key.privateKey });
    const parsed = parseSignature(signature);
    expect(parsed.algorithm).toBe(algorithm);
    expect(parsed.expires - parsed.created).toBe(300);
    expect(Math.abs(parsed.created - Date.now() / 1000)).toBeLessThan(5);
    expect(
      signature.startsWith(`namespace="dci", kidId="opendci|${key.kid}|${algorithm}", algorithm="${algorithm}"`),
    ).toBe(true);
    const seen: string[] = [];
    const result = verifyMessage(
      { signature, ...e },
      {
        resolveKey: (kid, senderId) => {
          seen.push(`${senderId}/${kid}`);
          return key.publicKey;
        },
      },
    );
    expect(result.canonical).toBe('jcs');
    expect(seen).toEqual([`opendci/${key.kid}`]);
  });

  it.each(ALGORITHMS)('signedBody (%s) is the signed envelope as JSON text, in canonical form', (algorithm) => {
    const key = testKeys[algorithm];
    const options = { senderId: 'opendci', kid: key.kid, privateKey: key.privateKey, now: NOW };
    const { signature, body } = signedBody(e, options);
    expect(signature).toBe(signMessage(e, options));
    const parsed = JSON.parse(body) as SignedEnvelope;
    expect(parsed).toEqual({ signature, header: e.header, message: e.message });
    expect(Object.keys(parsed)).toEqual(['signature', 'header', 'message']);
    expect(body).toBe(`{"signature":${JSON.stringify(signature)},${canonicalMessage(e).slice(1)}`);
    expect(verifyMessage(parsed, { resolveKey: () => key.publicKey, now: NOW }).canonical).toBe('jcs');
  });

  it('never signs the signature field', () => {
    expect(sign({ ...e, signature: 'whatever' } as typeof e)).toBe(sign(e));
  });

  it('verifies a message signed in the OpenSPP form by falling back after JCS', () => {
    const signature = sign(e, ed, { canonical: 'openspp' });
    expect(verifyMessage({ ...e, signature }, resolver(ed.publicKey)).canonical).toBe('openspp');
    // With JCS alone it does not verify.
    rejects({ ...e, signature }, { ...resolver(ed.publicKey), canonicalForms: ['jcs'] }, 'mismatch');
  });

  it('honours ttlSeconds', () => {
    const parsed = parseSignature(sign(e, ed, { ttlSeconds: 60 }));
    expect(parsed.expires).toBe(NOW + 60);
  });

  it('refuses to sign with a key of another algorithm or a public key', () => {
    expect(() => sign(e, ed, { algorithm: 'rsa-sha256' })).toThrow(TypeError);
    expect(() => sign(e, rsa, { algorithm: 'ed25519' })).toThrow(TypeError);
    expect(() => signMessage(e, { senderId: 's', kid: 'k', privateKey: ed.publicKey, now: NOW })).toThrow(TypeError);
  });

  it('accepts the parse variants of a valid signature', () => {
    const signature = sign();
    for (const variant of [
      signature.replace('kidId=', 'keyId='),
      signature.replace('namespace="dci", ', ''),
      `Signature: ${signature}`,
      signature.replaceAll(', ', ' '),
      signature.replaceAll('"', '').replace('headers=(created) (expires) digest, ', ''),
    ]) {
      expect(verifyMessage({ ...e, signature: variant }, resolver(ed.publicKey)).kid).toBe(ed.kid);
    }
  });

  describe('rejects', () => {
    it('a tampered header', () => {
      const signature = sign();
      rejects({ ...e, header: { ...e.header, message_id: 'm-other' }, signature }, resolver(ed.publicKey), 'mismatch');
    });

    it('a tampered message', () => {
      const signature = sign(e, rsa);
      const message = structuredClone(e.message);
      (message as { correlation_id: string }).correlation_id = 'c-2';
      rejects({ ...e, message, signature }, resolver(rsa.publicKey), 'mismatch');
      rejects({ header: e.header, signature }, resolver(rsa.publicKey), 'mismatch');
    });

    it('a wrong key', () => {
      const other = generateKeyPairSync('ed25519').publicKey;
      rejects({ ...e, signature: sign() }, resolver(other), 'mismatch');
    });

    it('an algorithm that is not the key’s', () => {
      rejects({ ...e, signature: sign(e, ed) }, resolver(rsa.publicKey), 'algorithm');
      rejects({ ...e, signature: sign(e, rsa) }, resolver(ed.publicKey), 'algorithm');
      const relabelled = sign(e, ed).replaceAll('ed25519', 'rsa-sha256');
      rejects({ ...e, signature: relabelled }, resolver(ed.publicKey), 'algorithm');
      const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      rejects({ ...e, signature: sign() }, resolver(p256), 'algorithm');
    });

    it('an unknown kid', () => {
      rejects({ ...e, signature: sign() }, resolver(undefined), 'unknown_kid');
    });

    it('an expired signature (no skew on expires)', () => {
      const signature = sign(e, ed, { now: NOW - 300 });
      expect(verifyMessage({ ...e, signature }, { ...resolver(ed.publicKey), now: NOW }).created).toBe(NOW - 300);
      rejects({ ...e, signature }, { ...resolver(ed.publicKey), now: NOW + 1 }, 'expired');
      rejects({ ...e, signature }, { ...resolver(ed.publicKey), now: NOW + 1, clockSkewSeconds: 3600 }, 'expired');
    });

    it('a signature created in the future beyond the skew', () => {
      const signature = sign(e, ed, { now: NOW + 301 });
      rejects({ ...e, signature }, resolver(ed.publicKey), 'created_in_future');
      expect(verifyMessage({ ...e, signature }, { ...resolver(ed.publicKey), clockSkewSeconds: 301 }).kid).toBe(ed.kid);
      const near = sign(e, ed, { now: NOW + 300 });
      expect(verifyMessage({ ...e, signature: near }, resolver(ed.publicKey)).kid).toBe(ed.kid);
      rejects({ ...e, signature: near }, { ...resolver(ed.publicKey), clockSkewSeconds: 60 }, 'created_in_future');
    });

    it('expires before created', () => {
      const signature = sign(e, ed, { ttlSeconds: -1 });
      rejects({ ...e, signature }, resolver(ed.publicKey), 'unparseable');
    });

    it('an unparseable signature', () => {
      rejects({ ...e, signature: 'garbage' }, resolver(ed.publicKey), 'unparseable');
      rejects({ ...e, signature: 42 }, resolver(ed.publicKey), 'unparseable');
      rejects({ ...e, signature: { keyId: 'x' } }, resolver(ed.publicKey), 'unparseable');
      rejects({ ...e, signature: sign().replace('kidId="opendci|', 'kidId="') }, resolver(ed.publicKey), 'unparseable');
    });

    it('a wrong headers parameter', () => {
      const signature = sign();
      for (const headers of ['digest', '(created) digest', '(request-target) (created) (expires) digest', '']) {
        rejects(
          { ...e, signature: signature.replace('(created) (expires) digest', headers) },
          resolver(ed.publicKey),
          'headers',
        );
      }
      // Extra whitespace or case do not matter.
      const spaced = signature.replace('(created) (expires) digest', ' (Created)  (expires) DIGEST');
      expect(verifyMessage({ ...e, signature: spaced }, resolver(ed.publicKey)).kid).toBe(ed.kid);
    });

    it('a bit-flipped or truncated signature value', () => {
      const signature = sign();
      const value = parseSignature(signature).signature;
      const bytes = Buffer.from(value, 'base64');
      bytes[0] = (bytes[0] as number) ^ 1;
      rejects(
        { ...e, signature: signature.replace(value, bytes.toString('base64')) },
        resolver(ed.publicKey),
        'mismatch',
      );
      rejects({ ...e, signature: signature.replace(value, value.slice(8)) }, resolver(ed.publicKey), 'mismatch');
      const rsaSignature = sign(e, rsa);
      const rsaValue = parseSignature(rsaSignature).signature;
      rejects(
        { ...e, signature: rsaSignature.replace(rsaValue, rsaValue.slice(8)) },
        resolver(rsa.publicKey),
        'mismatch',
      );
    });

    it('another sender when expectedSenderId is set', () => {
      const signature = sign();
      rejects({ ...e, signature }, { ...resolver(ed.publicKey), expectedSenderId: 'someone-else' }, 'sender');
      expect(verifyMessage({ ...e, signature }, { ...resolver(ed.publicKey), expectedSenderId: 'opendci' }).kid).toBe(
        ed.kid,
      );
    });

    it('placeholders as missing', () => {
      for (const signature of [undefined, null, '', 'unsigned', 'unsigned-stub']) {
        rejects({ ...e, signature }, resolver(ed.publicKey), 'missing');
      }
    });
  });

  describe('async key resolution', () => {
    it('returns a promise when resolveKey does', async () => {
      const signature = sign();
      const pending = verifyMessage({ ...e, signature }, { resolveKey: async () => ed.publicKey, now: NOW });
      expect(pending).toBeInstanceOf(Promise);
      expect((await pending).kid).toBe(ed.kid);
      await expect(
        verifyMessage({ ...e, signature }, { resolveKey: async () => undefined, now: NOW }),
      ).rejects.toMatchObject({ code: 'err.signature.invalid', detail: 'unknown_kid' });
    });

    it('verifyMessageAsync turns every failure into a rejection', async () => {
      await expect(
        verifyMessageAsync({ ...e, signature: 'garbage' }, { resolveKey: () => ed.publicKey, now: NOW }),
      ).rejects.toBeInstanceOf(DciError);
      const result = await verifyMessageAsync(
        { ...e, signature: sign() },
        { resolveKey: () => ed.publicKey, now: NOW },
      );
      expect(result.canonical).toBe('jcs');
    });

    it('propagates resolver errors unchanged', async () => {
      const boom = new Error('jwks fetch failed');
      await expect(
        verifyMessage({ ...e, signature: sign() }, { resolveKey: () => Promise.reject(boom), now: NOW }),
      ).rejects.toBe(boom);
    });
  });
});

describe('JWK helpers', () => {
  it('publishes Ed25519 and RSA public JWKs with thumbprint kids', () => {
    const ed = testKeys.ed25519;
    expect(publicJwk(ed.privateKey)).toEqual({ ...ed.vector.jwk, kid: ed.kid, alg: 'EdDSA', use: 'sig' });
    const rsa = testKeys['rsa-sha256'];
    expect(publicJwk(rsa.publicKey, { use: 'sig' })).toEqual({
      ...rsa.vector.jwk,
      kid: rsa.kid,
      alg: 'RS256',
      use: 'sig',
    });
    expect(publicJwk(rsa.publicKey, { kid: 'custom', use: 'enc' })).toMatchObject({ kid: 'custom', use: 'enc' });
    // The published JWK imports back to the same key.
    const jwk = publicJwk(ed.publicKey);
    expect(jwkThumbprint(createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' }))).toBe(
      ed.kid,
    );
  });

  it('matches the RFC 7638 and RFC 8037 examples', () => {
    const rfc7638 = createPublicKey({
      key: {
        kty: 'RSA',
        n:
          '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs' +
          'tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5h' +
          'ajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
        e: 'AQAB',
      },
      format: 'jwk',
    });
    expect(jwkThumbprint(rfc7638)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    const rfc8037 = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
      format: 'jwk',
    });
    expect(jwkThumbprint(rfc8037)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('refuses key types outside the profile', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(() => publicJwk(p256)).toThrow(TypeError);
    expect(() => algorithmForKey(p256)).toThrow(TypeError);
    expect(jwkThumbprint(p256)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
