/**
 * The checks every inbound DCI message passes, in the order of contract.md §4; the first failure
 * answers. Framework-free: the HTTP adapter calls these with what it parsed, through ports.
 */
import type { KeyObject } from 'node:crypto';
import { DciError, ErrorCode, isPlaceholderSignature, verifyMessage, type VerifyResult } from '@opendci/protocol';

export type SignaturePolicy = 'required' | 'optional';

export interface SenderInfo {
  id: string;
  active: boolean;
  operations: readonly string[];
  domains: readonly string[];
  signaturePolicy: SignaturePolicy;
  /** Fields the sender may receive; null = every field. */
  fields: readonly string[] | null;
  legalBasis: 'statute' | 'agreement' | 'consent';
  rateLimitPerMinute: number | null;
  callbackAllow: readonly string[];
  notifyUri: string | null;
}

export interface Caller {
  sender: SenderInfo;
  /** Operations granted by the token (its `scope`). */
  scope: readonly string[];
}

export interface InboundPorts {
  /** Verifies a bearer token; throws DciError(err.request.unauthorized). */
  verifyToken(token: string): Promise<{ sub: string; scope: readonly string[] }>;
  sender(id: string): Promise<SenderInfo | undefined>;
  senderKey(senderId: string, kid: string): Promise<KeyObject | undefined>;
  /** Records a message id; false when the sender used it before. */
  consumeMessageId(senderId: string, messageId: string): Promise<boolean>;
}

export interface InboundSettings {
  /** Accepted `header.receiver_id` values; undefined = not checked. */
  receiverIds?: readonly string[];
  /** Allowed distance of `message_ts` (and of a signature's `created`) from our clock. */
  clockSkewSeconds: number;
  versions: readonly string[];
}

const bad = (message: string, status?: number) => new DciError(ErrorCode.RequestBad, message, status ? { status } : {});

/** (1) bearer and (2, first half) an active sender. */
export async function authenticate(authorization: string | undefined, ports: InboundPorts): Promise<Caller> {
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!match) throw new DciError(ErrorCode.RequestUnauthorized, 'a bearer token is required (Authorization: Bearer …)');
  const token = await ports.verifyToken(match[1]!);
  const sender = await ports.sender(token.sub);
  if (!sender) throw new DciError(ErrorCode.RequestUnauthorized, 'the token names an unknown client');
  if (!sender.active) throw new DciError(ErrorCode.RequestForbidden, 'this sender is not active');
  return { sender, scope: token.scope };
}

export interface Envelope {
  signature?: unknown;
  header: Record<string, unknown> & { action: string; message_id: string; message_ts: string; sender_id: string };
  message: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** (2, second half) the message is from the token's client. Runs before schema validation. */
export function checkSenderId(body: unknown, caller: Caller): void {
  if (!isObject(body) || !isObject(body.header)) return;
  const senderId = body.header.sender_id;
  if (typeof senderId === 'string' && senderId !== caller.sender.id) {
    throw new DciError(ErrorCode.SenderIdInvalid, `header.sender_id "${senderId}" is not the token's client`);
  }
}

/**
 * (3) shape: schema (via `validate`), action, version, receiver, encryption. Returns the typed
 * envelope.
 */
export function checkShape(
  body: unknown,
  expected: { action: string; validate: (body: unknown) => string | undefined; messageOptional?: boolean },
  settings: InboundSettings,
): Envelope {
  if (!isObject(body)) throw bad('the body must be a JSON object with header and message');
  if (!isObject(body.header)) throw bad('header is missing');
  // A callback may leave out `message` when its header says rjct (contract §3): the schema decides.
  if (!expected.messageOptional && (body.message === undefined || body.message === null))
    throw bad('message is missing');
  if (body.header.is_msg_encrypted === true) {
    throw new DciError(ErrorCode.EncryptionInvalid, 'encrypted messages are not accepted by this server');
  }
  const problem = expected.validate(body);
  if (problem) throw bad(problem);
  const header = body.header as Envelope['header'];
  if (header.action !== expected.action) {
    throw bad(`header.action "${String(header.action)}" is wrong for this endpoint (expected "${expected.action}")`);
  }
  if (typeof header.version === 'string' && !settings.versions.includes(header.version)) {
    throw new DciError(
      ErrorCode.VersionNotSupported,
      `header.version ${header.version} is not supported (${settings.versions.join(', ')})`,
    );
  }
  if (settings.receiverIds) {
    const receiver = header.receiver_id;
    if (typeof receiver !== 'string' || !settings.receiverIds.includes(receiver)) {
      throw new DciError(
        ErrorCode.ReceiverIdInvalid,
        `header.receiver_id ${JSON.stringify(receiver ?? null)} is not this server`,
      );
    }
  }
  return body as unknown as Envelope;
}

/** (4) the body signature, under the sender's policy. Returns the verification, or undefined when unsigned. */
export async function checkSignature(
  envelope: Envelope,
  caller: Caller,
  ports: InboundPorts,
  settings: InboundSettings,
  nowMs: number,
): Promise<VerifyResult | undefined> {
  if (isPlaceholderSignature(envelope.signature)) {
    if (caller.sender.signaturePolicy === 'optional') return undefined;
    throw new DciError(ErrorCode.SignatureMissing, 'this sender must sign its messages (body "signature")');
  }
  if (typeof envelope.signature !== 'string')
    throw new DciError(ErrorCode.SignatureInvalid, 'signature must be a string');
  const senderId = caller.sender.id;
  return verifyMessage(
    { signature: envelope.signature, header: envelope.header, message: envelope.message },
    {
      resolveKey: (kid) => ports.senderKey(senderId, kid),
      expectedSenderId: senderId,
      now: Math.floor(nowMs / 1000),
      clockSkewSeconds: settings.clockSkewSeconds,
    },
  );
}

function checkTimestamp(envelope: Envelope, settings: InboundSettings, nowMs: number): void {
  const ts = Date.parse(envelope.header.message_ts);
  if (Number.isNaN(ts)) throw bad('header.message_ts is not a date-time');
  if (Math.abs(nowMs - ts) > settings.clockSkewSeconds * 1000) {
    throw bad(`header.message_ts is more than ${settings.clockSkewSeconds} s away from this server's clock`);
  }
}

/** (5) freshness and replay. Only a message that passed 1–4 consumes its id. */
export async function checkFreshness(
  envelope: Envelope,
  caller: Caller,
  ports: InboundPorts,
  settings: InboundSettings,
  nowMs: number,
): Promise<void> {
  checkTimestamp(envelope, settings, nowMs);
  if (!(await ports.consumeMessageId(caller.sender.id, envelope.header.message_id))) {
    throw bad(`header.message_id "${envelope.header.message_id}" was used before`, 409);
  }
}

/**
 * (5) for callbacks we receive: freshness as for requests, but a `message_id` seen before is not
 * an error — it is ACKed and not handled again. Returns false for such a duplicate.
 */
export async function checkCallbackFreshness(
  envelope: Envelope,
  caller: Caller,
  ports: InboundPorts,
  settings: InboundSettings,
  nowMs: number,
): Promise<boolean> {
  checkTimestamp(envelope, settings, nowMs);
  return ports.consumeMessageId(caller.sender.id, envelope.header.message_id);
}

/** (6) the operation and the domain are allowed for the sender (and granted by the token). */
export function checkAllowed(caller: Caller, operation: string, domain: string): void {
  const { sender } = caller;
  if (!sender.operations.includes(operation) || !caller.scope.includes(operation)) {
    throw new DciError(ErrorCode.RequestForbidden, `this sender may not use ${operation}`);
  }
  if (!sender.domains.includes(domain)) {
    throw new DciError(ErrorCode.RequestForbidden, `this sender may not use the ${domain} registry`);
  }
}
