/**
 * Loading registry files: rows are validated, grouped into batches and written by the
 * RegistryWriter, one transaction per batch. If a batch fails in the database, its rows are
 * retried one transaction each, so that the bad row is reported and the good ones load.
 */
import { statSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { runInTx } from '../db/tx.js';
import { normalizeRecord, RowError, type CleanRecord } from './normalize.js';
import type { RecordType } from './records.js';
import { formatOf, readCsv, readNdjson, type ImportFormat, type SourceRow } from './sources.js';
import { RegistryWriter, type RowOutcome } from './writer.js';

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

export async function importRows(
  db: Kysely<DB>,
  source: AsyncIterable<SourceRow>,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const started = Date.now();
  const maxErrors = options.maxErrors ?? 1000;
  const batchWeight = options.batchWeight ?? 2000;
  const writer = new RegistryWriter();
  const report: ImportReport = { rows: 0, inserted: 0, updated: 0, unchanged: 0, failed: 0, errors: [], durationMs: 0 };

  const fail = (line: number, reason: string) => {
    report.failed++;
    if (report.errors.length < maxErrors) report.errors.push({ line, reason });
  };
  const count = (line: number, outcome: RowOutcome) => {
    if (outcome.status === 'failed') fail(line, outcome.reason ?? 'failed');
    else report[outcome.status]++;
  };

  let batch: Pending[] = [];
  let batchSize = 0;
  let bytes = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    batchSize = 0;
    try {
      const outcomes = await runInTx(db, (trx) =>
        writer.writeBatch(
          trx,
          rows.map((r) => r.record),
        ),
      );
      outcomes.forEach((o, i) => count(rows[i]!.line, o));
    } catch {
      // Something in the batch broke a constraint: isolate it, one transaction per row.
      writer.reset();
      for (const row of rows) {
        try {
          const [outcome] = await runInTx(db, (trx) => writer.writeBatch(trx, [row.record]));
          count(row.line, outcome!);
        } catch (error) {
          writer.reset();
          fail(row.line, dbReason(error));
        }
      }
    }
    options.onProgress?.({ rows: report.rows, bytes });
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
export async function importFile(db: Kysely<DB>, path: string, options: ImportFileOptions = {}): Promise<ImportReport> {
  const format = formatOf(path, options.format);
  const size = statSync(path).size;
  options.onStart?.(size);
  const source = format === 'csv' ? readCsv(path) : readNdjson(path);
  return importRows(db, source, options);
}
