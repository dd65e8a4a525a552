/**
 * Loading registry files: rows are validated, grouped into batches and written by the
 * RegistryWriter, one transaction per batch. If a batch fails in the database, its rows are
 * retried one transaction each, so that the bad row is reported and the good ones load.
 */
import { statSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { openSession, type Database } from '../db/open.js';
import { runInTx } from '../db/tx.js';
import { copyBulkInsert } from './bulk.js';
import { normalizeRecord, RowError, type CleanRecord } from './normalize.js';
import type { RecordType } from './records.js';
import { formatOf, readCsv, readNdjson, type ImportFormat, type SourceRow } from './sources.js';
import { RegistryWriter, type PlannedBatch, type RowOutcome } from './writer.js';

export interface RowFailure {
  line: number;
  reason: string;
}

export interface ImportReport {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** The first `maxErrors` failures, in file order. */
  errors: RowFailure[];
  durationMs: number;
}

export interface ImportProgress {
  rows: number;
  bytes: number;
}

export interface ImportOptions {
  /** Type of rows that do not name one (CSV files, NDJSON lines without `type`). */
  type?: RecordType;
  /** Rows are batched until their weight (1 per record, +1 per nested member) reaches this. */
  batchWeight?: number;
  maxErrors?: number;
  onProgress?: (progress: ImportProgress) => void;
}

interface Pending {
  line: number;
  record: CleanRecord;
}

function weight(record: CleanRecord): number {
  return record.type === 'household' ? 1 + record.members.length : 1;
}

/** A database error as a row reason: the driver's message, without internals. */
function dbReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `rejected by the database: ${message.split('\n')[0]}`;
}

/**
 * Loads rows into the store. On PostgreSQL it works on a connection of its own, so that new rows
 * can be streamed with COPY inside each batch's transaction.
 */
/**
 * Loads rows into the store. On PostgreSQL it writes on a connection of its own, so that new
 * rows can be streamed with COPY inside each batch's transaction, and plans the next batch (reading
 * through the pool) while the previous one is being written.
 */
export async function importRows(
  database: Database,
  source: AsyncIterable<SourceRow>,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const session = await openSession(database);
  try {
    const writer = new RegistryWriter(session.client ? copyBulkInsert(session.client) : undefined);
    return await load({ write: session.db, read: database.db }, writer, source, options);
  } finally {
    await session.close();
  }
}

interface InFlight {
  rows: Pending[];
  planned: PlannedBatch;
  /** Resolves true when the batch committed, false when it was rolled back. */
  committed: Promise<boolean>;
  progress: ImportProgress;
}

async function load(
  dbs: { write: Kysely<DB>; read: Kysely<DB> },
  writer: RegistryWriter,
  source: AsyncIterable<SourceRow>,
  options: ImportOptions,
): Promise<ImportReport> {
  const started = Date.now();
  const maxErrors = options.maxErrors ?? 1000;
  const batchWeight = options.batchWeight ?? 5000;
  const report: ImportReport = { rows: 0, inserted: 0, updated: 0, unchanged: 0, failed: 0, errors: [], durationMs: 0 };

  const fail = (line: number, reason: string) => {
    report.failed++;
    if (report.errors.length < maxErrors) report.errors.push({ line, reason });
  };
  const count = (line: number, outcome: RowOutcome) => {
    if (outcome.status === 'failed') fail(line, outcome.reason ?? 'failed');
    else report[outcome.status]++;
  };
  const records = (rows: Pending[]) => rows.map((r) => r.record);

  /** The database rejected a batch: its rows go one transaction each, to find the bad one. */
  const rowByRow = async (rows: Pending[]) => {
    writer.reset();
    for (const row of rows) {
      try {
        const [outcome] = await runInTx(dbs.write, (trx) => writer.writeBatch(trx, [row.record]));
        count(row.line, outcome!);
      } catch (error) {
        writer.reset();
        fail(row.line, dbReason(error));
      }
    }
  };

  const startWrite = (rows: Pending[], planned: PlannedBatch): Promise<boolean> => {
    const committed = runInTx(dbs.write, (trx) => writer.write(trx, planned)).then(
      () => true,
      () => false,
    );
    return committed;
  };

  /** Waits for the batch in flight; returns false (after recovering its rows) if it failed. */
  const settle = async (batch: InFlight): Promise<boolean> => {
    if (await batch.committed) {
      batch.planned.outcomes.forEach((o, i) => count(batch.rows[i]!.line, o));
      options.onProgress?.(batch.progress);
      return true;
    }
    await rowByRow(batch.rows);
    options.onProgress?.(batch.progress);
    return false;
  };

  let batch: Pending[] = [];
  let batchSize = 0;
  let bytes = 0;
  let inFlight: InFlight | undefined;

  // The next batch is planned while the previous one is written: the database and the CPU work
  // overlap. Writes still commit one after the other.
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    const progress = { rows: report.rows, bytes };
    batch = [];
    batchSize = 0;
    let planned = await writer.plan(dbs.read, records(rows), inFlight?.planned);
    if (inFlight && !(await settle(inFlight))) {
      writer.reset();
      planned = await writer.plan(dbs.read, records(rows));
    }
    inFlight = { rows, planned, committed: startWrite(rows, planned), progress };
  };

  for await (const row of source) {
    report.rows++;
    bytes = row.bytes;
    if (row.error !== undefined) {
      fail(row.line, row.error);
      continue;
    }
    let record: CleanRecord;
    try {
      record = normalizeRecord(row.record, options.type);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      fail(row.line, error.message);
      continue;
    }
    batch.push({ line: row.line, record });
    batchSize += weight(record);
    if (batchSize >= batchWeight) await flush();
  }
  await flush();
  if (inFlight) await settle(inFlight);
  report.errors.sort((a, b) => a.line - b.line);
  report.durationMs = Date.now() - started;
  return report;
}

export interface ImportFileOptions extends ImportOptions {
  format?: ImportFormat | string;
  /** Called with the file size first, then with progress. */
  onStart?: (totalBytes: number) => void;
}

/** Imports a CSV or NDJSON file (format from the extension unless given). */
export async function importFile(
  database: Database,
  path: string,
  options: ImportFileOptions = {},
): Promise<ImportReport> {
  const format = formatOf(path, options.format);
  const size = statSync(path).size;
  options.onStart?.(size);
  const source = format === 'csv' ? readCsv(path) : readNdjson(path);
  return importRows(database, source, options);
}
