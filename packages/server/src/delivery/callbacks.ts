/**
 * Delivering a callback (on-search, …): one job per message. Every attempt re-signs the message
 * with a fresh `message_ts` and the same `message_id`, POSTs it to the URL exactly as the sender
 * gave it, and is recorded in the audit trail. A failed attempt throws, and the job queue retries
 * with exponential backoff and jitter, then dead-letters.
 */
import { callbackHeader, signMessage, type Action, type RequestStatus } from '@opendci/protocol';
import type { AuditTrail } from '../audit/audit.js';
import type { Signer } from '../http/dci.js';
import { postJson, OutboundError, type HostLookup } from './outbound.js';

export interface CallbackJob {
  url: string;
  /** The sender the callback answers (its `receiver_id`). */
  receiverId: string;
  domain: string;
  action: Action;
  status: RequestStatus;
  totalCount: number;
  completedCount: number;
  /** Fixed for every attempt: receivers drop duplicates by it. */
  messageId: string;
  transactionId: string;
  correlationId: string;
  message: Record<string, unknown>;
}

export interface CallbackDeps {
  serverId: string;
  signer: Signer;
  audit: AuditTrail;
  allowInsecure: boolean;
  timeoutMs: number;
  lookup?: HostLookup;
}

export class CallbackFailed extends Error {}

/** True when the receiver has the message: 2xx, 409, or an answer saying it is a duplicate. */
export function delivered(status: number, body: unknown): boolean {
  if (status === 409) return true;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  if (text.includes('rjct.message_id.duplicate')) return true;
  if (status < 200 || status >= 300) return false;
  const ack = (body as { message?: { ack_status?: string } } | null)?.message?.ack_status;
  return ack !== 'ERR' && ack !== 'NACK';
}

export async function deliverCallback(job: CallbackJob, attempt: number, deps: CallbackDeps): Promise<void> {
  const receivedAt = new Date();
  const header = callbackHeader({
    action: job.action,
    senderId: deps.serverId,
    receiverId: job.receiverId,
    status: job.status,
    totalCount: job.totalCount,
    completedCount: job.completedCount,
    messageId: job.messageId,
  });
  const key = deps.signer.active();
  const signature = signMessage(
    { header, message: job.message },
    { senderId: deps.serverId, kid: key.kid, algorithm: key.algorithm, privateKey: key.privateKey },
  );
  const payload = { signature, header, message: job.message };
  let httpStatus: number | null = null;
  let response: unknown;
  let failure: string | undefined;
  try {
    const answer = await postJson(job.url, JSON.stringify(payload), {
      allowInsecure: deps.allowInsecure,
      timeoutMs: deps.timeoutMs,
      ...(deps.lookup ? { lookup: deps.lookup } : {}),
    });
    httpStatus = answer.status;
    response = answer.body;
    if (!delivered(answer.status, answer.body)) failure = `the receiver answered ${answer.status}`;
  } catch (error) {
    failure = error instanceof OutboundError ? `${error.kind}: ${error.message}` : String(error);
  }
  await deps.audit.record({
    direction: 'outbound',
    senderId: deps.serverId,
    receiverId: job.receiverId,
    domain: job.domain,
    action: job.action,
    path: job.url,
    messageId: job.messageId,
    transactionId: job.transactionId,
    correlationId: job.correlationId,
    status: failure ? 'failed' : 'delivered',
    reasonCode: failure ? failure.slice(0, 200) : null,
    httpStatus,
    attempt,
    receivedAt,
    request: payload,
    response,
  });
  if (failure) throw new CallbackFailed(failure);
}
