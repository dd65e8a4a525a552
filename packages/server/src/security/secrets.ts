/**
 * Client secrets: generated at random, stored only as salted scrypt hashes.
 *
 * Stored form (PHC string format): `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (salt and hash in
 * base64 without padding). The parameters travel with the hash, so they can be raised later
 * without breaking stored secrets.
 *
 * Secrets this server must be able to read back (the credentials it presents to a sender's
 * callback endpoint) are sealed instead, the way server private keys are (server-keys.ts):
 * AES-256-GCM under the key-encryption key (`DCI_KEY_ENCRYPTION_KEY`) as
 * `enc:v1:<iv>:<tag>:<ciphertext>` (base64), with a context string (what the secret is, and
 * whose) as additional data so a sealed value cannot be moved to another row; `plain:<text>`
 * when no key-encryption key is set.
 */
import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** N = 2^15, r = 8, p = 1: about 32 MiB and tens of milliseconds per hash. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(secret: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64').replace(/=+$/, '');
}

/** A new random client secret: 32 bytes, base64url (43 characters). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** The stored form of a secret (a fresh random salt every time). */
export async function hashSecret(secret: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, params, HASH_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * True when `secret` matches the stored hash. Constant-time comparison; a malformed stored value
 * never matches (and does not throw).
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const match = PHC.exec(stored);
  if (!match) return false;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.ln < 1 || params.ln > 22 || params.r < 1 || params.p < 1) return false;
  const salt = Buffer.from(match[4]!, 'base64');
  const expected = Buffer.from(match[5]!, 'base64');
  if (expected.length < 16) return false;
  const actual = await derive(secret, salt, params, expected.length);
  return timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time of one verification without a stored hash: answering an unknown client as
 * slowly as a wrong secret keeps client ids from being probed by timing.
 */
export async function verifyAgainstDummy(secret: string): Promise<false> {
  dummy ??= hashSecret(generateSecret());
  await verifySecret(secret, await dummy);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Sealed secrets (readable again with the key-encryption key)

const SEALED_PREFIX = 'enc:v1:';
const PLAIN_PREFIX = 'plain:';

/** A sealed secret cannot be opened: no key-encryption key, the wrong one, or a damaged value. */
export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

function checkKek(kek: Buffer | undefined): void {
  if (kek !== undefined && kek.length !== 32) {
    throw new SealedSecretError('the key-encryption key must be 32 bytes (DCI_KEY_ENCRYPTION_KEY, base64)');
  }
}

/**
 * The stored form of a secret: `enc:v1:…` (AES-256-GCM under `kek`, `context` as additional
 * data), or `plain:` + the secret when no key-encryption key is set.
 */
export function sealSecret(secret: string, context: string, kek: Buffer | undefined): string {
  checkKek(kek);
  if (!kek) return PLAIN_PREFIX + secret;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${SEALED_PREFIX}${iv.toString('base64')}:${tag.toString('base64')}:${ciphertext.toString('base64')}`;
}

/** Whether a stored value is encrypted (rather than `plain:`). */
export function isSealedEncrypted(stored: string): boolean {
  return typeof stored === 'string' && stored.startsWith(SEALED_PREFIX);
}

/**
 * The secret of a stored value sealed with the same `context`. Throws SealedSecretError (never
 * with the secret in its message) when the key-encryption key is missing or wrong.
 */
export function openSecret(stored: string, context: string, kek: Buffer | undefined): string {
  checkKek(kek);
  if (typeof stored !== 'string') throw new SealedSecretError(`${context}: not a stored secret`);
  if (stored.startsWith(PLAIN_PREFIX)) return stored.slice(PLAIN_PREFIX.length);
  if (!stored.startsWith(SEALED_PREFIX)) throw new SealedSecretError(`${context}: unknown stored secret format`);
  if (!kek) {
    throw new SealedSecretError(
      `${context} is stored encrypted: set DCI_KEY_ENCRYPTION_KEY to the key it was encrypted with`,
    );
  }
  const [iv, tag, ciphertext, extra] = stored
    .slice(SEALED_PREFIX.length)
    .split(':')
    .map((part) => Buffer.from(part, 'base64'));
  if (!iv || !tag || !ciphertext || extra || iv.length !== 12 || tag.length !== 16) {
    throw new SealedSecretError(`${context}: malformed encrypted secret`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedSecretError(
      `DCI_KEY_ENCRYPTION_KEY does not decrypt ${context}: it was encrypted with another key`,
    );
  }
}
