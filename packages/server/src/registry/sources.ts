/** Readers that turn an import file into numbered raw records (NDJSON lines, CSV rows). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { IdentifierRef } from './records.js';

export interface SourceRow {
  /** 1-based line number in the file (for CSV: the line where the row ends). */
  line: number;
  record?: unknown;
  error?: string;
  /** Bytes of the file read so far (for progress). */
  bytes: number;
}

export type ImportFormat = 'csv' | 'ndjson';

export function formatOf(path: string, explicit?: string): ImportFormat {
  if (explicit === 'csv' || explicit === 'ndjson') return explicit;
  if (explicit) throw new Error(`unknown format "${explicit}" (csv or ndjson)`);
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(nd)?jsonl?$/i.test(path)) return 'ndjson';
  throw new Error(`cannot tell the format of ${path}: name it .csv or .ndjson, or pass --format`);
}

export async function* readNdjson(path: string): AsyncGenerator<SourceRow> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  let bytes = 0;
  for await (const text of lines) {
    line++;
    bytes += Buffer.byteLength(text) + 1;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) {
      yield* parseLine(text.slice(1), line, bytes);
      continue;
    }
    yield* parseLine(text, line, bytes);
  }
}

function* parseLine(text: string, line: number, bytes: number): Generator<SourceRow> {
  if (text.trim() === '') return;
  try {
    yield { line, record: JSON.parse(text), bytes };
  } catch (error) {
    yield { line, error: `invalid JSON: ${(error as Error).message}`, bytes };
  }
}

const REFERENCE_COLUMNS = new Set([
  'person',
  'beneficiary',
  'farmer',
  'subject',
  'partner',
  'parent1',
  'parent2',
  'household',
]);
const NUMBER_COLUMNS = new Set([
  'level',
  'poverty_score',
  'land_size',
  'functional_severity',
  'support_level',
  'age_of_onset',
  'amount',
  'quantity',
]);

/** Builds a record from a CSV row, following the column flattenings of docs/data-formats.md. */
export function csvRowToRecord(header: readonly string[], cells: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  const identifiers: IdentifierRef[] = [];
  header.forEach((column, i) => {
    const value = (cells[i] ?? '').trim();
    if (value === '') return;
    if (column.startsWith('id.')) {
      identifiers.push({ type: column.slice(3), value });
      return;
    }
    if (REFERENCE_COLUMNS.has(column)) {
      record[column] = value;
      return;
    }
    const path = column.split('.');
    let target = record;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next !== 'object' || next === null) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const leaf = path.at(-1)!;
    target[leaf] =
      NUMBER_COLUMNS.has(leaf) || leaf === 'latitude' || leaf === 'longitude' ? numberOrText(value) : value;
  });
  if (identifiers.length) record.identifiers = identifiers;
  return record;
}

function numberOrText(value: string): number | string {
  const n = Number(value);
  return value !== '' && Number.isFinite(n) ? n : value;
}

export async function* readCsv(path: string): AsyncGenerator<SourceRow> {
  const parser = createReadStream(path).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  let header: string[] | undefined;
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
    const { record: cells, info } = item;
    if (!header) {
      header = cells.map((c) => c.trim());
      const duplicate = header.find((c, i) => header!.indexOf(c) !== i);
      if (duplicate) throw new Error(`CSV header names column "${duplicate}" twice`);
      continue;
    }
    if (cells.length !== header.length) {
      yield { line: info.lines, error: `expected ${header.length} columns, found ${cells.length}`, bytes: info.bytes };
      continue;
    }
    yield { line: info.lines, record: csvRowToRecord(header, cells), bytes: info.bytes };
  }
}
