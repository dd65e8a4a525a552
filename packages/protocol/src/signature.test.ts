import { describe, expect, it } from 'vitest';
import { DciError } from './errors.js';
import { formatSignature, isPlaceholderSignature, parseSignature } from './signature.js';
import type { ParsedSignature } from './signature.js';

const SIG = 'q83vEjRWeJA=';

function fails(input: string, detail = 'unparseable'): void {
  let caught: unknown;
  try {
    parseSignature(input);
  } catch (e) {
    caught = e;
  }
  expect(caught, input).toBeInstanceOf(DciError);
  expect((caught as DciError).code).toBe('err.signature.invalid');
  expect((caught as DciError).status).toBe(401);
  expect((caught as DciError).detail).toBe(detail);
}

describe('formatSignature', () => {
  it('emits the exact profile string', () => {
    expect(
      formatSignature({
        senderId: 'opendci',
        kid: 'abc_-1',
        algorithm: 'ed25519',
        created: 1735725600,
        expires: 1735725900,
        signature: SIG,
      }),
    ).toBe(
      'namespace="dci", kidId="opendci|abc_-1|ed25519", algorithm="ed25519", created="1735725600", ' +
        `expires="1735725900", headers="(created) (expires) digest", signature="${SIG}"`,
    );
  });

  it('refuses ids that would not parse back', () => {
    const base = { senderId: 's', kid: 'k', algorithm: 'ed25519', created: 1, expires: 2, signature: SIG } as const;
    expect(() => formatSignature({ ...base, senderId: 'a|b' })).toThrow(TypeError);
    expect(() => formatSignature({ ...base, kid: 'a|b' })).toThrow(TypeError);
    expect(() => formatSignature({ ...base, kid: '' })).toThrow(TypeError);
    expect(() => formatSignature({ ...base, senderId: 'a"b' })).toThrow(TypeError);
    expect(() => formatSignature({ ...base, created: 1.5 })).toThrow(TypeError);
    expect(() => formatSignature({ ...base, signature: 'not base64!' })).toThrow(TypeError);
  });
});

describe('parseSignature', () => {
  const expected: ParsedSignature = {
    namespace: 'dci',
    keyId: 'spmis.example.org|key-1|ed25519',
    senderId: 'spmis.example.org',
    kid: 'key-1',
    algorithm: 'ed25519',
    created: 1606970629,
    expires: 1606970929,
    headers: '(created) (expires) digest',
    signature: SIG,
  };
  const canonical =
    'namespace="dci", kidId="spmis.example.org|key-1|ed25519", algorithm="ed25519", created="1606970629", ' +
    `expires="1606970929", headers="(created) (expires) digest", signature="${SIG}"`;

  it('parses the emitted form and round-trips', () => {
    expect(parseSignature(canonical)).toEqual(expected);
    const { senderId, kid, algorithm, created, expires, signature } = expected;
    expect(parseSignature(formatSignature({ senderId, kid, algorithm, created, expires, signature }))).toEqual(
      expected,
    );
  });

  it.each([
    ['keyId instead of kidId', canonical.replace('kidId=', 'keyId=')],
    ['Signature: prefix', `Signature: ${canonical}`],
    ['Signature:  prefix (two spaces, as in the spec example)', `Signature:  ${canonical}`],
    ['Signature prefix without colon', `Signature ${canonical}`],
    ['lower-case prefix', `signature: ${canonical}`],
    ['commas without spaces', canonical.replaceAll(', ', ',')],
    ['spaces only', canonical.replaceAll(', ', ' ')],
    ['mixed separators and padding', `  ${canonical.replaceAll(', ', ' ,\t')} , `],
    ['parameter names in other case', canonical.replace('kidId', 'KIDID').replace('created=', 'Created=')],
  ])('accepts %s', (_label, input) => {
    expect(parseSignature(input)).toEqual(expected);
  });

  it('accepts another or no namespace', () => {
    expect(parseSignature(canonical.replace('namespace="dci"', 'namespace="spdci"')).namespace).toBe('spdci');
    expect(parseSignature(canonical.replace('namespace="dci"', 'namespace="g2p"')).namespace).toBe('g2p');
    const none = parseSignature(canonical.replace('namespace="dci", ', ''));
    expect(none).toEqual({ ...expected, namespace: undefined });
    expect('namespace' in none).toBe(false);
  });

  it('accepts unquoted values', () => {
    const unquoted =
      'keyId=spmis.example.org|key-1|ed25519,algorithm=ed25519,created=1606970629,expires=1606970929,' +
      `headers="(created) (expires) digest",signature=${SIG}`;
    expect(parseSignature(unquoted)).toEqual({ ...expected, namespace: undefined });
    expect(
      parseSignature(
        `Signature keyId=spmis.example.org|key-1|ed25519 created=1606970629 expires=1606970929 signature=${SIG}`,
      ),
    ).toEqual({
      keyId: expected.keyId,
      senderId: expected.senderId,
      kid: expected.kid,
      algorithm: 'ed25519',
      created: expected.created,
      expires: expected.expires,
      signature: SIG,
    });
  });

  it('takes the algorithm from the key id when the parameter is absent, case-insensitively', () => {
    expect(parseSignature(canonical.replace('algorithm="ed25519", ', '')).algorithm).toBe('ed25519');
    expect(parseSignature(canonical.replaceAll('ed25519', 'Ed25519')).algorithm).toBe('ed25519');
    const rsa = parseSignature(canonical.replaceAll('ed25519', 'rsa-sha256'));
    expect(rsa.algorithm).toBe('rsa-sha256');
    expect(rsa.kid).toBe('key-1');
  });

  it('ignores unknown parameters', () => {
    expect(parseSignature(`${canonical}, extra="x y", other=1`)).toEqual(expected);
  });

  it('rejects malformed strings', () => {
    fails('');
    fails('garbage');
    fails('Signature:');
    fails('"quoted"');
    fails(canonical.replace('kidId="spmis.example.org|key-1|ed25519", ', ''));
    fails(canonical.replace('spmis.example.org|key-1|ed25519', 'key-1|ed25519'));
    fails(canonical.replace('spmis.example.org|key-1|ed25519', 'spmis.example.org|key|1|ed25519'));
    fails(canonical.replace('spmis.example.org|key-1|ed25519', 'spmis.example.org||ed25519'));
    fails(canonical.replace('spmis.example.org|key-1|ed25519', '|key-1|ed25519'));
    fails(canonical.replace('created="1606970629"', 'created="yesterday"'));
    fails(canonical.replace('created="1606970629"', 'created="-5"'));
    fails(canonical.replace('created="1606970629"', 'created="1606970629.5"'));
    fails(canonical.replace('expires="1606970929", ', ''));
    fails(canonical.replace(`signature="${SIG}"`, 'signature=""'));
    fails(canonical.replace(`, signature="${SIG}"`, ''));
    fails(canonical.replace(SIG, 'not base64!'));
    fails(canonical.replace(`signature="${SIG}"`, `signature="${SIG}`)); // unterminated
    fails(`${canonical}, created="1606970629"`); // duplicate
    fails(`${canonical}, keyId="spmis.example.org|key-1|ed25519"`); // keyId and kidId
    fails(canonical.replace('created="1606970629"', 'created="1606970629"x'));
    fails(canonical.replace('created=', 'created '));
    fails('x'.repeat(9000));
    // The spec's own example (placeholder values, missing closing quote).
    fails(
      'Signature:  namespace="spdci", kidId="{sender_id}|{unique_key_id}|{algorithm}", algorithm="ed25519", ' +
        'created="1606970629", expires="1607030629", headers="(created) (expires) digest", signature="Base64(signing content)',
    );
  });

  it('rejects unsupported or inconsistent algorithms', () => {
    fails(canonical.replaceAll('ed25519', 'hmac-sha256'), 'algorithm');
    fails(canonical.replace('algorithm="ed25519"', 'algorithm="rsa-sha256"'), 'algorithm');
    fails(canonical.replace('algorithm="ed25519"', 'algorithm="hs2019"'), 'algorithm');
  });

  it('rejects non-strings', () => {
    expect(() => parseSignature(42 as unknown as string)).toThrow(DciError);
  });
});

describe('isPlaceholderSignature', () => {
  it('is true exactly for the contract §5 placeholders', () => {
    for (const v of [undefined, null, '', 'unsigned', 'unsigned-stub']) expect(isPlaceholderSignature(v)).toBe(true);
    for (const v of ['Unsigned', ' ', 'unsigned ', 'none', 'signature_validation_disabled', 0, false, {}, []]) {
      expect(isPlaceholderSignature(v)).toBe(false);
    }
  });
});
