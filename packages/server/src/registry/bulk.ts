import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

type Row = Record<string, unknown>;

export interface TableSpec {
  readonly columns: readonly string[];
  /** Columns of type text[] (every other array or object value is JSON). */
  readonly textArrays?: readonly string[];
}

/** Inserts many rows into one table, in the caller's transaction. */
export type BulkInsert = (db: Kysely<unknown>, table: string, spec: TableSpec, rows: readonly Row[]) => Promise<void>;

/**
 * Portable bulk insert: the rows travel as one JSON array and `json_populate_recordset` casts
 * every column by the table's own definition. One parameter per chunk, the same SQL on PGlite and
 * PostgreSQL.
 */
export const jsonBulkInsert: BulkInsert = async (db, table, spec, rows) => {
  const list = spec.columns.map((name) => `"${name}"`).join(', ');
  const text = `insert into "${table}" (${list}) select ${list} from json_populate_recordset(null::"${table}", $1::json)`;
  const chunk = 5000;
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.length <= chunk ? rows : rows.slice(start, start + chunk);
    await db.executeQuery(CompiledQuery.raw(text, [JSON.stringify(part)]));
  }
};

// COPY text format: backslash escapes for the four characters that delimit it.
function escapeCopy(text: string): string {
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!)
    : text;
}

function pgTextArray(items: readonly unknown[]): string {
  return `{${items
    .map(
      (s) =>
        `"${String(s as string)
          .replace(/\\/g, '\\\\')
          .replace(/"/g, '\\"')}"`,
    )
    .join(',')}}`;
}

function copyCell(value: unknown, textArray: boolean): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') return escapeCopy(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof Date) return value.toISOString();
  if (textArray && Array.isArray(value)) return escapeCopy(pgTextArray(value));
  return escapeCopy(JSON.stringify(value));
}

/**
 * PostgreSQL bulk insert through `COPY … FROM STDIN` on the session's own client: several times
 * faster than any INSERT for large loads. The client must be the one the transaction runs on.
 */
export function copyBulkInsert(client: pg.Client): BulkInsert {
  return async (_db, table, spec, rows) => {
    const textArrays = new Set(spec.textArrays ?? []);
    const list = spec.columns.map((name) => `"${name}"`).join(', ');
    const columns = spec.columns.map((name) => [name, textArrays.has(name)] as const);
    function* lines(): Generator<string> {
      let buffer = '';
      for (const row of rows) {
        buffer += columns.map(([name, isArray]) => copyCell(row[name], isArray)).join('\t') + '\n';
        if (buffer.length > 65_536) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
    }
    await pipeline(Readable.from(lines()), client.query(copyFrom(`copy "${table}" (${list}) from stdin`)));
  };
}
