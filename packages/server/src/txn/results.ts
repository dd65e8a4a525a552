/**
 * What `txn/status` reads: the answers of async transactions, kept whole in `dci_result`, and, for
 * sync transactions (whose answer went back in the HTTP response), their outcome from the audit
 * trail — item statuses only, never record data.
 */
import { sql, type Insertable, type Kysely } from 'kysely';
import type { TxnType } from '@opendci/protocol';
import type { DB, DciResultTable } from '../db/schema.js';
import type { StoredTransaction, TransactionLookup } from '../engine/txn-status.js';

type Item = Record<string, unknown>;

const isObject = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The response list of a message of each transaction type. */
const ITEM_LISTS: Record<TxnType, string | undefined> = {
  search: 'search_response',
  subscribe: 'subscribe_response',
  unsubscribe: undefined,
  receipt: undefined,
};

/** The item outcomes of a redacted response: reference id, status and reason, no data. */
function itemOutcomes(txnType: TxnType, response: unknown): Item[] | undefined {
  const list = ITEM_LISTS[txnType];
  const message = isObject(response) && isObject(response.message) ? response.message : undefined;
  const items = list && message ? message[list] : undefined;
  if (!Array.isArray(items)) return undefined;
  return items.filter(isObject).map((item) => {
    const kept: Item = {};
    for (const key of ['reference_id', 'timestamp', 'status', 'status_reason_code', 'status_reason_message', 'locale'])
      if (item[key] !== undefined) kept[key] = item[key];
    return kept;
  });
}

/** `reference_ids` shares an element with the list (served by a GIN index). */
const holdsAny = (values: readonly string[]) => sql<boolean>`reference_ids && ${sql.val(values)}::text[]`;

export class TransactionResults {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * The row that records an accepted async transaction (inserted in the transaction that queues
   * its job, in one statement with the request's audit row).
   */
  static pending(entry: {
    correlationId: string;
    senderId: string;
    domain: string;
    txnType: TxnType;
    transactionId: string;
    referenceIds: readonly string[];
  }): Insertable<DciResultTable> {
    return {
      correlation_id: entry.correlationId,
      sender_id: entry.senderId,
      domain: entry.domain,
      txn_type: entry.txnType,
      transaction_id: entry.transactionId,
      reference_ids: [...entry.referenceIds],
      status: 'pdng',
    };
  }

  /** Deletes answers older than `days`; returns how many. */
  async purge(days: number, now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - days * 86_400_000);
    const result = await this.db.deleteFrom('dci_result').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The sender's transactions matching the lookup, newest first. */
  async find(lookup: TransactionLookup): Promise<StoredTransaction[]> {
    const kept = await this.findKept(lookup);
    return kept.length > 0 ? kept : this.findAudited(lookup);
  }

  private async findKept(lookup: TransactionLookup): Promise<StoredTransaction[]> {
    let query = this.db
      .selectFrom('dci_result')
      .selectAll()
      .where('sender_id', '=', lookup.senderId)
      .where('domain', '=', lookup.domain)
      .where('txn_type', '=', lookup.txnType);
    query =
      lookup.by === 'reference_ids' ? query.where(holdsAny(lookup.values)) : query.where(lookup.by, '=', lookup.value);
    const rows = await query.orderBy('created_at', 'desc').limit(lookup.limit).execute();
    return rows.map((row) => ({
      transactionId: row.transaction_id,
      correlationId: row.correlation_id,
      txnType: lookup.txnType,
      status: row.status,
      referenceIds: row.reference_ids,
      ...(isObject(row.result) ? { result: row.result } : {}),
    }));
  }

  /** Sync transactions: their outcome as the audit trail recorded it. */
  private async findAudited(lookup: TransactionLookup): Promise<StoredTransaction[]> {
    let query = this.db
      .selectFrom('dci_transaction')
      .select(['transaction_id', 'correlation_id', 'status', 'reference_ids', 'response'])
      .where('direction', '=', 'inbound')
      .where('sender_id', '=', lookup.senderId)
      .where('domain', '=', lookup.domain)
      .where('action', '=', lookup.txnType)
      .where('path', 'like', '%/sync/%')
      .where('status', '<>', 'err');
    query =
      lookup.by === 'reference_ids' ? query.where(holdsAny(lookup.values)) : query.where(lookup.by, '=', lookup.value);
    const rows = await query.orderBy('received_at', 'desc').limit(lookup.limit).execute();
    return rows.map((row) => {
      const items = itemOutcomes(lookup.txnType, row.response);
      return {
        transactionId: row.transaction_id ?? '',
        correlationId: row.correlation_id ?? '',
        txnType: lookup.txnType,
        status: row.status,
        referenceIds: row.reference_ids,
        ...(items ? { items } : {}),
      };
    });
  }
}
