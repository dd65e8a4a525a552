/**
 * The request bodies of the search benchmark, made the way a DCI client makes them: a fresh
 * `message_id` and `transaction_id` per request and, for a signing sender, a fresh signature.
 * Shared by the load generators (bench/load/*.ts) and the orchestrator (bench/search.ts).
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import {
  requestHeader,
  searchRequestMessage,
  signMessage,
  type SearchCriteria,
} from '../../packages/protocol/src/index.js';

/** Who sends: the sender id and, when it signs, its Ed25519 key and key id. */
export interface Sender {
  senderId: string;
  signer?: { kid: string; privateKey: KeyObject };
}

/** Two conditions of the expression search: `sex` and a birth-date window `[from, to)`. */
export interface ExpressionWindow {
  sex: string;
  from: string;
  to: string;
  /** Individuals matching, counted with SQL before the run. */
  matches: number;
}

export const PAGE_SIZE = 10;

export function idtypeCriteria(value: string): SearchCriteria {
  return {
    version: '1.0.0',
    reg_record_type: 'Member',
    query_type: 'idtype-value',
    query: { type: 'UIN', value },
  };
}

/** `sex = …` and `from ≤ birth_date < to`, sorted by birth date, first page of 10 (`total_count` always counted). */
export function expressionCriteria(window: ExpressionWindow): SearchCriteria {
  return {
    version: '1.0.0',
    reg_record_type: 'Member',
    query_type: 'expression',
    query: {
      type: 'ns:org:QueryType:expression',
      value: {
        expression: {
          collection: 'Member',
          query: { $and: [{ sex: window.sex }, { birth_date: { $gte: window.from, $lt: window.to } }] },
        },
      },
    },
    sort: [{ attribute_name: 'birth_date', sort_order: 'asc' }],
    pagination: { page_size: PAGE_SIZE, page_number: 1 },
  };
}

/** A search request body (one item), signed when the sender has a key, `"unsigned"` otherwise. */
export function searchBody(
  sender: Sender,
  criteria: SearchCriteria,
  senderUri?: string,
  transactionId: string = randomUUID(),
): string {
  const message = searchRequestMessage({ transactionId, items: [{ criteria }] });
  const header = requestHeader({
    action: 'search',
    senderId: sender.senderId,
    totalCount: 1,
    messageId: randomUUID(),
    ...(senderUri === undefined ? {} : { senderUri }),
  });
  const envelope = { header, message };
  const signature = sender.signer
    ? signMessage(envelope, { senderId: sender.senderId, kid: sender.signer.kid, privateKey: sender.signer.privateKey })
    : 'unsigned';
  return JSON.stringify({ signature, ...envelope });
}

/** Nearest-rank percentile (`p` in 0–100) of ascending `sorted`, rounded to 0.1 ms; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return Math.round(sorted[rank - 1]! * 10) / 10;
}

/** What a load generator prints (one JSON line on stdout). */
export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  /** Seconds the run took. */
  seconds: number;
  /** Responses per second. */
  rps: number;
  /** Latencies of the 2xx responses, ms (nearest rank over every response, not autocannon's histogram). */
  p50: number;
  p95: number;
  p99: number;
  /** autocannon's own p97.5, ms. */
  p97_5: number;
  non2xx: number;
  /** Socket errors and timeouts (autocannon `errors`). */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}
