import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, verifyAgainstDummy, verifySecret } from './secrets.js';

describe('client secrets', () => {
  it('generates 32 random bytes as base64url', () => {
    const a = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(a);
  });

  it('hashes with scrypt, a fresh salt and the parameters in the stored string', async () => {
    const first = await hashSecret('s3cret');
    const second = await hashSecret('s3cret');
    expect(first).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(second).not.toBe(first);
    expect(first).not.toContain('s3cret');
  });

  it('verifies the right secret only', async () => {
    const stored = await hashSecret('s3cret');
    expect(await verifySecret('s3cret', stored)).toBe(true);
    expect(await verifySecret('s3cret ', stored)).toBe(false);
    expect(await verifySecret('', stored)).toBe(false);
  });

  it('reads other parameters from the stored string', async () => {
    const stored = await hashSecret('pw', { ln: 10, r: 4, p: 2 });
    expect(stored).toMatch(/^\$scrypt\$ln=10,r=4,p=2\$/);
    expect(await verifySecret('pw', stored)).toBe(true);
  });

  it('never matches a malformed stored value', async () => {
    for (const stored of [
      '',
      'plain',
      '$scrypt$ln=15,r=8,p=1$$',
      '$scrypt$ln=99,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(await verifySecret('x', stored)).toBe(false);
    }
  });

  it('spends a verification on unknown clients', async () => {
    expect(await verifyAgainstDummy('anything')).toBe(false);
  });
});
