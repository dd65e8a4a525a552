/**
 * Transaction status: the protocol handler behind `…/registry/sync/txn/status` and the async
 * `txn/status` job (`dci-brief.md` §5). A sender sees only its own transactions. `txn_status` is
 * the queried transaction's original response object when it was kept (async transactions), and
 * otherwise its item outcomes without data (sync transactions, whose data went back in the HTTP
 * answer); a transaction still running answers its items as `pdng`.
 */
import {
  normalizeTxnType,
  searchResponseItem,
  subscribeResponseItem,
  txnStatusResponseMessage,
  unsubscribeResponseMessage,
  type TxnStatusInput,
  type TxnStatusRequest,
  type TxnType,
} from '@opendci/protocol';
import type { Domain } from '../config.js';
import type { Caller } from './inbound.js';

type Item = Record<string, unknown>;

export type TransactionLookup = {
  senderId: string;
  domain: Domain;
  txnType: TxnType;
  /** At most this many transactions, newest first. */
  limit: number;
} & ({ by: 'transaction_id' | 'correlation_id'; value: string } | { by: 'reference_ids'; values: string[] });

export interface StoredTransaction {
  transactionId: string;
  correlationId: string;
  txnType: TxnType;
  /** `pdng` while running; then the answer's header status (`succ`, `rjct`, `part`). */
  status: string;
  referenceIds: string[];
  /** The original response message, when kept. */
  result?: Item;
  /** Item outcomes (reference id, status, reason) when only those are known. */
  items?: Item[];
}

/** A subscription as txn status reports it. */
export interface SubscriptionState {
  code: string;
  active: boolean;
  referenceId: string;
  transactionId: string;
  correlationId: string;
  eventTypes: string[];
  recordType: string;
  createdAt: Date;
}

export interface TxnStatusPorts {
  find(lookup: TransactionLookup): Promise<StoredTransaction[]>;
  /** The sender's subscriptions among `codes` (others are left out). */
  subscriptions(senderId: string, domain: Domain, codes: readonly string[]): Promise<SubscriptionState[]>;
}

export interface TxnStatusOutcome {
  message: ReturnType<typeof txnStatusResponseMessage>;
  status: 'succ' | 'rjct';
  referenceIds: string[];
}

/** How many transactions a reference id list may gather. */
const MAX_TRANSACTIONS = 100;

/** The response list of each transaction type (unsubscribe answers are flat). */
const ITEM_LIST = { search: 'search_response', subscribe: 'subscribe_response' } as const;

function itemsOf(txn: StoredTransaction): Item[] {
  const list = txn.txnType === 'search' || txn.txnType === 'subscribe' ? ITEM_LIST[txn.txnType] : undefined;
  const kept = list && txn.result ? txn.result[list] : undefined;
  if (Array.isArray(kept)) return kept as Item[];
  if (txn.items) return txn.items;
  // Still running (or kept without items): every item is pending.
  const status = txn.status === 'pdng' ? 'pdng' : 'rcvd';
  return txn.referenceIds.map((referenceId) => ({
    reference_id: referenceId,
    timestamp: new Date().toISOString(),
    status,
  }));
}

const unknownItem = (referenceId: string, what: string) => ({
  referenceId,
  status: 'rjct' as const,
  reasonCode: 'rjct.reference_id.invalid' as const,
  reasonMessage: `no ${what} of this sender matches`,
});

/** `txn_status` when nothing matches: the type's response shape with one rejected item. */
function unknownStatus(
  txnType: TxnType,
  request: { transactionId: string; correlationId: string; referenceId: string },
): TxnStatusInput {
  const what = `${txnType} transaction`;
  switch (txnType) {
    case 'search':
      return {
        txnType,
        txnStatus: {
          transaction_id: request.transactionId,
          correlation_id: request.correlationId,
          search_response: [searchResponseItem(unknownItem(request.referenceId, what))],
        },
      };
    case 'subscribe':
      return {
        txnType,
        txnStatus: {
          transaction_id: request.transactionId,
          correlation_id: request.correlationId,
          subscribe_response: [subscribeResponseItem(unknownItem(request.referenceId, what))],
        },
      };
    case 'unsubscribe':
      return {
        txnType,
        txnStatus: unsubscribeResponseMessage({
          transactionId: request.transactionId,
          correlationId: request.correlationId,
          status: 'rjct',
          reasonCode: 'rjct.reference_id.invalid',
          reasonMessage: `no ${what} of this sender matches`,
          subscriptions: [],
        }),
      };
    case 'receipt':
      return {
        txnType,
        txnStatus: { transaction_id: request.transactionId, receipt_information: { beneficiaries: [] } },
      };
  }
}

/** `txn_status` of one found transaction, its items narrowed to `referenceIds` when given. */
function statusOf(txn: StoredTransaction, referenceIds?: readonly string[]): TxnStatusInput {
  if (txn.txnType === 'unsubscribe') {
    const txnStatus =
      (txn.result as ReturnType<typeof unsubscribeResponseMessage> | undefined) ??
      unsubscribeResponseMessage({
        transactionId: txn.transactionId,
        correlationId: txn.correlationId,
        status: txn.status === 'pdng' ? 'pdng' : txn.status === 'rjct' ? 'rjct' : 'succ',
        subscriptions: [],
      });
    return { txnType: 'unsubscribe', txnStatus };
  }
  const wanted = referenceIds ? new Set(referenceIds) : undefined;
  const items = itemsOf(txn).filter((item) => !wanted || wanted.has(String(item.reference_id)));
  const base = { ...(txn.result ?? {}), transaction_id: txn.transactionId, correlation_id: txn.correlationId };
  if (txn.txnType === 'subscribe') {
    return { txnType: 'subscribe', txnStatus: { ...base, subscribe_response: items } as never };
  }
  return { txnType: 'search', txnStatus: { ...base, search_response: items } as never };
}

/** Several transactions found by reference ids: each id answered from the newest that holds it. */
function statusOfReferences(found: StoredTransaction[], referenceIds: readonly string[]): TxnStatusInput {
  const newest = found[0]!;
  if (newest.txnType === 'unsubscribe') return statusOf(newest);
  const items: Item[] = [];
  for (const referenceId of referenceIds) {
    const item = found
      .map((txn) => itemsOf(txn).find((candidate) => String(candidate.reference_id) === referenceId))
      .find((candidate) => candidate !== undefined);
    items.push(
      item ?? (searchResponseItem(unknownItem(referenceId, `${newest.txnType} transaction`)) as unknown as Item),
    );
  }
  const base = { ...(newest.result ?? {}), transaction_id: newest.transactionId, correlation_id: newest.correlationId };
  const list = newest.txnType === 'subscribe' ? 'subscribe_response' : 'search_response';
  return { txnType: newest.txnType, txnStatus: { ...base, [list]: items } } as TxnStatusInput;
}

/** `txn_status` of subscriptions found by their codes: their state now, unknown codes rejected. */
function statusOfSubscriptions(
  txnType: 'subscribe' | 'unsubscribe',
  found: SubscriptionState[],
  codes: readonly string[],
  referenceId: string,
): TxnStatusInput {
  const byCode = new Map(found.map((s) => [s.code, s]));
  const first = found[0]!;
  const unknown = codes.filter((code) => !byCode.has(code));
  if (txnType === 'unsubscribe') {
    return {
      txnType,
      txnStatus: unsubscribeResponseMessage({
        transactionId: first.transactionId,
        correlationId: first.correlationId,
        status: unknown.length > 0 ? 'rjct' : 'succ',
        ...(unknown.length > 0
          ? { reasonCode: 'rjct.subscription_code.invalid' as const, reasonMessage: `unknown: ${unknown.join(', ')}` }
          : {}),
        subscriptions: found.map((s) => ({ code: s.code, status: s.active ? 'subscribe' : 'unsubscribe' })),
      }),
    };
  }
  const items = codes.map((code) => {
    const s = byCode.get(code);
    if (!s) return subscribeResponseItem({ ...unknownItem(referenceId, `subscription ${code}`) });
    return subscribeResponseItem({
      referenceId: s.referenceId,
      timestamp: s.createdAt,
      subscriptions: [
        {
          code: s.code,
          status: s.active ? 'subscribe' : 'unsubscribe',
          timestamp: s.createdAt,
          ...(s.eventTypes[0] ? { regEventType: s.eventTypes[0] } : {}),
          notifyRecordType: s.recordType,
        },
      ],
    });
  });
  return {
    txnType,
    txnStatus: { transaction_id: first.transactionId, correlation_id: first.correlationId, subscribe_response: items },
  };
}

export async function txnStatus(
  message: TxnStatusRequest,
  correlationId: string,
  caller: Caller,
  ports: TxnStatusPorts,
  settings: { domain: Domain },
): Promise<TxnStatusOutcome> {
  const request = message.txnstatus_request;
  const txnType = normalizeTxnType(request.txn_type);
  const base = { senderId: caller.sender.id, domain: settings.domain, txnType };
  const referenceId = String(request.reference_id);
  let status: TxnStatusInput | undefined;
  switch (request.attribute_type) {
    case 'transaction_id':
    case 'correlation_id': {
      const [found] = await ports.find({
        ...base,
        by: request.attribute_type,
        value: request.attribute_value,
        limit: 1,
      });
      if (found) status = statusOf(found);
      break;
    }
    case 'reference_id_list': {
      const wanted = [...new Set(request.attribute_value.map(String))];
      const found = await ports.find({ ...base, by: 'reference_ids', values: wanted, limit: MAX_TRANSACTIONS });
      if (found.length > 0) status = statusOfReferences(found, wanted);
      break;
    }
    case 'subscription_code_list': {
      if (txnType !== 'subscribe' && txnType !== 'unsubscribe') break;
      const codes = [...new Set(request.attribute_value.map(String))];
      const found = await ports.subscriptions(caller.sender.id, settings.domain, codes);
      if (found.length > 0) status = statusOfSubscriptions(txnType, found, codes, referenceId);
      break;
    }
  }
  // The inner ids are the queried transaction's: echoed when that is what was asked for.
  const asked = (type: string) =>
    request.attribute_type === type && typeof request.attribute_value === 'string'
      ? request.attribute_value
      : undefined;
  const answer =
    status ??
    unknownStatus(txnType, {
      transactionId: asked('transaction_id') ?? message.transaction_id,
      correlationId: asked('correlation_id') ?? '',
      referenceId,
    });
  return {
    message: txnStatusResponseMessage({ transactionId: message.transaction_id, correlationId, ...answer }),
    status: status ? 'succ' : 'rjct',
    referenceIds: [referenceId],
  };
}
