/**
 * This server's signing keys (table `server_key`): created on first start, rotated on demand,
 * published in the JWKS. The private halves are stored encrypted with AES-256-GCM under the
 * key-encryption key (`DCI_KEY_ENCRYPTION_KEY`) as `enc:v1:<iv>:<tag>:<ciphertext>` (base64, the
 * PKCS #8 DER of the key, the kid as additional data), or as `plain:<PEM>` when none is set.
 *
 * Statuses: `active` (signs; one at a time), `retiring` (still published and accepted until
 * `retire_after`), `retired` (kept for the record, never used).
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { jwkThumbprint, publicJwk, type PublicJwk, type SignatureAlgorithm } from '@opendci/protocol';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, ServerKeyTable } from '../db/schema.js';
import { runInTx } from '../db/tx.js';

export type ServerKeyStatus = 'active' | 'retiring' | 'retired';

/** A key this server signs with. */
export interface ActiveServerKey {
  kid: string;
  algorithm: SignatureAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A stored key as listed (no private material). */
export interface ServerKeyInfo {
  kid: string;
  algorithm: SignatureAlgorithm;
  status: ServerKeyStatus;
  createdAt: Date;
  /** Retiring keys: when they stop being published and accepted. */
  retireAfter: Date | null;
  /** Whether the private key is stored encrypted. */
  encrypted: boolean;
  jwk: PublicJwk;
}

export interface ServerKeysOptions {
  /** 32 bytes (`DCI_KEY_ENCRYPTION_KEY`); without it private keys are stored as plain PEM. */
  keyEncryptionKey?: Buffer | undefined;
  /** Algorithm of a key created here (first start, rotation): `ed25519` (default) or `rsa-sha256` (RSA-2048). */
  algorithm?: SignatureAlgorithm;
  /** How often `maybeRefresh()` re-reads the table (other nodes may rotate); default 60 s. */
  refreshIntervalMs?: number;
  /** Least time between two re-reads caused by an unknown kid; default 5 s. */
  missRefreshMs?: number;
  /** Clock, milliseconds (tests). */
  now?: () => number;
}

export interface RotateOptions {
  /** How long the previous key stays published and accepted; default 86,400 s (one day). 0 retires it at once. */
  overlapSeconds?: number;
  algorithm?: SignatureAlgorithm;
}

/** Loading or rotating keys failed in a way the operator must fix (e.g. a missing or wrong KEK). */
export class ServerKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerKeyError';
  }
}

type Row = Selectable<ServerKeyTable>;

interface LoadedKey extends ActiveServerKey {
  status: ServerKeyStatus;
  createdAt: Date;
  retireAfter: Date | null;
}

const DEFAULT_OVERLAP_SECONDS = 86_400;
const ENC_PREFIX = 'enc:v1:';
const PLAIN_PREFIX = 'plain:';

function checkKek(kek: Buffer | undefined): void {
  if (kek !== undefined && kek.length !== 32) {
    throw new ServerKeyError('the key-encryption key must be 32 bytes (DCI_KEY_ENCRYPTION_KEY, base64)');
  }
}

function aad(kid: string): Buffer {
  return Buffer.from(`opendci server_key ${kid}`, 'utf8');
}

/** The stored form of a private key: `enc:v1:…` under `kek`, else `plain:` + PKCS #8 PEM. */
export function sealPrivateKey(privateKey: KeyObject, kid: string, kek: Buffer | undefined): string {
  checkKek(kek);
  if (!kek) return PLAIN_PREFIX + privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(aad(kid));
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${ENC_PREFIX}${iv.toString('base64')}:${tag.toString('base64')}:${ciphertext.toString('base64')}`;
}

/** The private key of a stored value; ServerKeyError when the KEK is missing or wrong. */
export function openPrivateKey(stored: string, kid: string, kek: Buffer | undefined): KeyObject {
  checkKek(kek);
  if (stored.startsWith(PLAIN_PREFIX)) return createPrivateKey(stored.slice(PLAIN_PREFIX.length));
  if (!stored.startsWith(ENC_PREFIX)) throw new ServerKeyError(`server key ${kid}: unknown private key format`);
  if (!kek) {
    throw new ServerKeyError(
      `server key ${kid} is stored encrypted: set DCI_KEY_ENCRYPTION_KEY to the key it was encrypted with`,
    );
  }
  const [iv, tag, ciphertext] = stored
    .slice(ENC_PREFIX.length)
    .split(':')
    .map((part) => Buffer.from(part, 'base64'));
  if (!iv || !tag || !ciphertext || iv.length !== 12 || tag.length !== 16) {
    throw new ServerKeyError(`server key ${kid}: malformed encrypted private key`);
  }
  let der: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, iv);
    decipher.setAAD(aad(kid));
    decipher.setAuthTag(tag);
    der = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new ServerKeyError(
      `DCI_KEY_ENCRYPTION_KEY does not decrypt server key ${kid}: it was encrypted with another key`,
    );
  }
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function generate(algorithm: SignatureAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  return algorithm === 'rsa-sha256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ed25519');
}

/** Serialises key creation and rotation across processes (and nodes). */
async function lock(trx: Kysely<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('opendci.server_key'))`.execute(trx);
}

async function insertKey(trx: Kysely<DB>, algorithm: SignatureAlgorithm, kek: Buffer | undefined): Promise<Row> {
  const { privateKey, publicKey } = generate(algorithm);
  const kid = jwkThumbprint(publicKey);
  return trx
    .insertInto('server_key')
    .values({
      kid,
      algorithm,
      public_key_pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      private_key: sealPrivateKey(privateKey, kid, kek),
      status: 'active',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Marks retiring keys whose overlap has ended as retired. */
async function retireExpired(trx: Kysely<DB>, now: Date): Promise<void> {
  await trx
    .updateTable('server_key')
    .set({ status: 'retired' })
    .where('status', '=', 'retiring')
    .where('retire_after', '<=', now)
    .execute();
}

function toInfo(row: Row): ServerKeyInfo {
  return {
    kid: row.kid,
    algorithm: row.algorithm,
    status: row.status,
    createdAt: row.created_at,
    retireAfter: row.retire_after,
    encrypted: row.private_key.startsWith(ENC_PREFIX),
    jwk: publicJwk(createPublicKey(row.public_key_pem), { kid: row.kid, use: 'sig' }),
  };
}

/**
 * Every stored key, newest first, without decrypting anything (e.g. `dci keys list`). Retiring
 * keys past their `retire_after` are shown as retired.
 */
export async function listServerKeys(db: Kysely<DB>, now: Date = new Date()): Promise<ServerKeyInfo[]> {
  const rows = await db.selectFrom('server_key').selectAll().orderBy('created_at', 'desc').orderBy('kid').execute();
  return rows.map((row) => {
    const info = toInfo(row);
    if (info.status === 'retiring' && info.retireAfter && info.retireAfter <= now) info.status = 'retired';
    return info;
  });
}

/**
 * Makes a new active key; the previous active key becomes `retiring` until now + overlap (or
 * `retired` at once with an overlap of 0). Refuses to write a key that the rest of the store
 * could not be read with: without a KEK while encrypted keys exist, or with a KEK that does not
 * decrypt them.
 */
export async function rotateServerKey(
  db: Kysely<DB>,
  options: RotateOptions & Pick<ServerKeysOptions, 'keyEncryptionKey' | 'algorithm'> & { now?: Date } = {},
): Promise<ServerKeyInfo> {
  const kek = options.keyEncryptionKey;
  checkKek(kek);
  const overlap = options.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  if (!Number.isFinite(overlap) || overlap < 0) throw new ServerKeyError('the overlap must be 0 or more seconds');
  const now = options.now ?? new Date();
  const row = await runInTx(db, async (trx) => {
    await lock(trx);
    const current = await trx
      .selectFrom('server_key')
      .selectAll()
      .where('status', 'in', ['active', 'retiring'])
      .orderBy('created_at', 'desc')
      .execute();
    const encrypted = current.find((r) => r.private_key.startsWith(ENC_PREFIX));
    if (encrypted) openPrivateKey(encrypted.private_key, encrypted.kid, kek); // throws on a missing or wrong KEK
    const active = current.find((r) => r.status === 'active');
    const algorithm = options.algorithm ?? active?.algorithm ?? 'ed25519';
    await retireExpired(trx, now);
    await trx
      .updateTable('server_key')
      .set(
        overlap > 0
          ? { status: 'retiring', retire_after: new Date(now.getTime() + overlap * 1000) }
          : { status: 'retired', retire_after: now },
      )
      .where('status', '=', 'active')
      .execute();
    return insertKey(trx, algorithm, kek);
  });
  return toInfo(row);
}

/** The keys of this server, held in memory (see the module comment). */
export class ServerKeys {
  private keys: LoadedKey[] = [];
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private readonly kek: Buffer | undefined;
  private readonly algorithm: SignatureAlgorithm;
  private readonly refreshIntervalMs: number;
  private readonly missRefreshMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly db: Kysely<DB>,
    options: ServerKeysOptions,
  ) {
    checkKek(options.keyEncryptionKey);
    this.kek = options.keyEncryptionKey;
    this.algorithm = options.algorithm ?? 'ed25519';
    this.refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.missRefreshMs = options.missRefreshMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Loads the keys, creating an active key on first start (one per cluster: the check and the
   * insert hold an advisory lock). With a KEK, keys stored as plain PEM are encrypted in place.
   * Throws ServerKeyError when an encrypted key cannot be decrypted.
   */
  static async load(db: Kysely<DB>, options: ServerKeysOptions = {}): Promise<ServerKeys> {
    const keys = new ServerKeys(db, options);
    await runInTx(db, async (trx) => {
      await lock(trx);
      await retireExpired(trx, new Date(keys.now()));
      const rows = await trx
        .selectFrom('server_key')
        .selectAll()
        .where('status', 'in', ['active', 'retiring'])
        .execute();
      for (const row of rows) openPrivateKey(row.private_key, row.kid, keys.kek); // fail early, before writing
      if (!rows.some((r) => r.status === 'active')) await insertKey(trx, keys.algorithm, keys.kek);
      if (keys.kek) {
        for (const row of rows.filter((r) => r.private_key.startsWith(PLAIN_PREFIX))) {
          const privateKey = openPrivateKey(row.private_key, row.kid, undefined);
          await trx
            .updateTable('server_key')
            .set({ private_key: sealPrivateKey(privateKey, row.kid, keys.kek) })
            .where('kid', '=', row.kid)
            .execute();
        }
      }
    });
    await keys.refresh();
    return keys;
  }

  /** The key to sign with now. */
  active(): ActiveServerKey {
    const key = this.keys.find((k) => k.status === 'active');
    if (!key) throw new ServerKeyError('no active server key');
    return { kid: key.kid, algorithm: key.algorithm, privateKey: key.privateKey, publicKey: key.publicKey };
  }

  /** The public key of an active or still-retiring key, by kid. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.current().find((k) => k.kid === kid)?.publicKey;
  }

  /** Like verificationKey(), re-reading the table first on an unknown kid (another node rotated). */
  async findVerificationKey(kid: string): Promise<KeyObject | undefined> {
    const key = this.verificationKey(kid);
    if (key || this.now() - this.lastRefresh < this.missRefreshMs) return key;
    await this.refreshOnce();
    return this.verificationKey(kid);
  }

  /** The JWK Set to publish: every active and retiring key. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.current().map((k) => publicJwk(k.publicKey, { kid: k.kid, use: 'sig' })) };
  }

  /** Rotates (see rotateServerKey) and returns the new active key. */
  async rotate(options: RotateOptions = {}): Promise<ActiveServerKey> {
    await rotateServerKey(this.db, {
      keyEncryptionKey: this.kek,
      algorithm: options.algorithm ?? this.algorithm,
      now: new Date(this.now()),
      ...(options.overlapSeconds === undefined ? {} : { overlapSeconds: options.overlapSeconds }),
    });
    await this.refresh();
    return this.active();
  }

  /** Every stored key, newest first (no private material). */
  list(): Promise<ServerKeyInfo[]> {
    return listServerKeys(this.db, new Date(this.now()));
  }

  /** Re-reads the active and retiring keys (decrypting only keys not already held). */
  async refresh(): Promise<void> {
    const rows = await this.db
      .selectFrom('server_key')
      .selectAll()
      .where('status', 'in', ['active', 'retiring'])
      .orderBy('created_at', 'desc')
      .execute();
    const held = new Map(this.keys.map((k) => [k.kid, k]));
    const keys: LoadedKey[] = [];
    let activeSeen = false;
    for (const row of rows) {
      // Two active rows cannot be made through this module; if a hand edit did, the newest signs.
      const status: ServerKeyStatus = row.status === 'active' && activeSeen ? 'retiring' : row.status;
      if (row.status === 'active') activeSeen = true;
      const privateKey = held.get(row.kid)?.privateKey ?? openPrivateKey(row.private_key, row.kid, this.kek);
      keys.push({
        kid: row.kid,
        algorithm: row.algorithm,
        status,
        createdAt: row.created_at,
        retireAfter: row.retire_after,
        privateKey,
        publicKey: createPublicKey(row.public_key_pem),
      });
    }
    if (keys.length) this.keys = keys;
    this.lastRefresh = this.now();
  }

  /** Re-reads the table when the last read is older than `refreshIntervalMs`; failures keep what is held. */
  async maybeRefresh(): Promise<void> {
    if (this.now() - this.lastRefresh < this.refreshIntervalMs) return;
    await this.refreshOnce().catch(() => {});
  }

  /**
   * Re-reads the table every `refreshIntervalMs` in the background (an unref'd timer), so that a
   * rotation made elsewhere (another node, `dci keys rotate`) is used for signing here too.
   */
  startRefreshing(): { stop(): void } {
    const timer = setInterval(() => void this.maybeRefresh(), this.refreshIntervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private refreshOnce(): Promise<void> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Active and retiring keys whose overlap has not ended, active first. */
  private current(): LoadedKey[] {
    const now = this.now();
    return this.keys
      .filter((k) => k.status === 'active' || (k.retireAfter !== null && k.retireAfter.getTime() > now))
      .sort((a, b) => (a.status === 'active' ? -1 : b.status === 'active' ? 1 : 0));
  }
}
