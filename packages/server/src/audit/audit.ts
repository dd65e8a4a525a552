import { CompiledQuery, type Kysely } from 'kysely';
import { PREPARE_MARK } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import type { Insertable } from 'kysely';
import type { DciTransactionTable } from '../db/schema.js';
import { Batcher } from '../util/batcher.js';
import { uuid7 } from '../util/uuid7.js';
import type { AuditPayloads } from './redact.js';

export interface AuditEntry {
  direction: 'inbound' | 'outbound';
  senderId?: string | null;
  receiverId?: string | null;
  domain?: string | null;
  action?: string | null;
  path?: string | null;
  messageId?: string | null;
  transactionId?: string | null;
  correlationId?: string | null;
  referenceIds?: string[];
  status: string;
  reasonCode?: string | null;
  httpStatus?: number | null;
  attempt?: number;
  receivedAt: Date;
  completedAt?: Date;
  request?: unknown;
  response?: unknown;
  consent?: unknown;
  authorize?: unknown;
}

export interface AuditOptions {
  payloads: AuditPayloads;
  redactFields: readonly string[];
}

type Row = Insertable<DciTransactionTable>;

/** The columns of an insert, in the order of its values. */
const COLUMNS = [
  'id',
  'direction',
  'sender_id',
  'receiver_id',
  'domain',
  'action',
  'path',
  'message_id',
  'transaction_id',
  'correlation_id',
  'reference_ids',
  'status',
  'reason_code',
  'http_status',
  'attempt',
  'received_at',
  'completed_at',
  'duration_ms',
  'request',
  'response',
  'consent',
  'authorize',
] as const satisfies readonly (keyof DciTransactionTable)[];

/** Rows one insert carries at most: also the number of insert texts (one per row count) each connection prepares. */
const MAX_ROWS = 32;
const insertTexts: string[] = [];

/** The insert of `n` rows, as a prepared statement's text (made once per row count). */
function insertText(n: number): string {
  let text = insertTexts[n];
  if (text === undefined) {
    const tuples = Array.from(
      { length: n },
      (_, row) => `(${COLUMNS.map((_, column) => `$${row * COLUMNS.length + column + 1}`).join(', ')})`,
    );
    text = `${PREPARE_MARK}insert into dci_transaction (${COLUMNS.join(', ')}) values ${tuples.join(', ')}`;
    insertTexts[n] = text;
  }
  return text;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * The audit trail: one `dci_transaction` row per inbound request and per outbound call, with
 * payloads stored whole, redacted (personal fields replaced) or not at all. Entries written
 * outside a transaction share inserts with simultaneous ones (group commit).
 */
export class AuditTrail {
  private readonly fields: ReadonlySet<string>;
  private readonly batcher = new Batcher<Row, Error | undefined>((rows) => this.insert(rows), MAX_ROWS);

  constructor(
    private readonly db: Kysely<DB>,
    private readonly options: AuditOptions,
  ) {
    this.fields = new Set(options.redactFields);
  }

  private payload(value: unknown): string | null {
    if (value === undefined || value === null || this.options.payloads === 'none') return null;
    if (this.options.payloads === 'full') return JSON.stringify(value);
    // One pass: the named fields are replaced while serialising (no redacted copy is built).
    const fields = this.fields;
    return JSON.stringify(value, (key, v: unknown) =>
      key !== '' && fields.has(key) && v !== null && v !== undefined ? '[redacted]' : v,
    );
  }

  /** The update that completes the inbound row of an async request (found by its correlation id). */
  completion(
    correlationId: string,
    outcome: { status: string; reasonCode?: string | null; response?: unknown },
    db: Kysely<DB> = this.db,
  ) {
    return db
      .updateTable('dci_transaction')
      .set({
        status: outcome.status,
        reason_code: outcome.reasonCode ?? null,
        response: this.payload(outcome.response),
        completed_at: new Date(),
      })
      .where('correlation_id', '=', correlationId)
      .where('direction', '=', 'inbound');
  }

  /** Records an entry, with the entries recorded at the same time; returns its id once it is written. */
  async record(entry: AuditEntry): Promise<string> {
    const row = this.row(entry);
    const refused = await this.batcher.submit(row);
    if (refused) throw refused;
    return row.id;
  }

  /** The insert of an entry inside a transaction, to run in a larger statement there. */
  recording(entry: AuditEntry, db: Kysely<DB>) {
    return db.insertInto('dci_transaction').values(this.row(entry));
  }

  /** Resolves once every entry recorded so far is written. */
  flush(): Promise<void> {
    return this.batcher.flush();
  }

  /**
   * One insert for the batch; if it fails, row by row, so that one bad entry costs only itself.
   * Answers, per row, why it was refused (undefined when written).
   */
  private async insert(rows: Row[]): Promise<(Error | undefined)[]> {
    try {
      await this.insertRows(rows);
      return rows.map(() => undefined);
    } catch (error) {
      if (rows.length === 1) return [asError(error)];
      const results = await Promise.allSettled(rows.map((row) => this.insertRows([row])));
      return results.map((result) => (result.status === 'rejected' ? asError(result.reason) : undefined));
    }
  }

  /** One prepared insert for the rows (its text depends only on their number). */
  private async insertRows(rows: Row[]): Promise<void> {
    const values = rows.flatMap((row) => COLUMNS.map((column) => row[column] ?? null));
    await this.db.executeQuery(CompiledQuery.raw(insertText(rows.length), values));
  }

  private row(entry: AuditEntry): Row & { id: string } {
    const id = uuid7(entry.receivedAt.getTime());
    const completedAt = entry.completedAt ?? new Date();
    return {
      id,
      direction: entry.direction,
      sender_id: entry.senderId ?? null,
      receiver_id: entry.receiverId ?? null,
      domain: entry.domain ?? null,
      action: entry.action ?? null,
      path: entry.path ?? null,
      message_id: entry.messageId ?? null,
      transaction_id: entry.transactionId ?? null,
      correlation_id: entry.correlationId ?? null,
      reference_ids: entry.referenceIds ?? [],
      status: entry.status,
      reason_code: entry.reasonCode ?? null,
      http_status: entry.httpStatus ?? null,
      attempt: entry.attempt ?? 1,
      received_at: entry.receivedAt,
      completed_at: completedAt,
      duration_ms: completedAt.getTime() - entry.receivedAt.getTime(),
      request: this.payload(entry.request),
      response: this.payload(entry.response),
      consent: entry.consent === undefined ? null : JSON.stringify(entry.consent),
      authorize: entry.authorize === undefined ? null : JSON.stringify(entry.authorize),
    };
  }
}
