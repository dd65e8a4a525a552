import { CompiledQuery, type Kysely } from 'kysely';

/** PostgreSQL types of bulk-insert columns (the parameter of each is an array of that type). */
export type ColumnKind = 'uuid' | 'text' | 'int4' | 'numeric' | 'bool' | 'date' | 'timestamptz' | 'jsonb' | 'text[]';

export type ColumnSpec = readonly (readonly [name: string, kind: ColumnKind])[];

/** A PostgreSQL array literal for one text[] cell: lists of lists cannot go through unnest. */
export function pgTextArray(items: readonly string[]): string {
  return `{${items.map((s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

function cell(kind: ColumnKind, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (kind === 'jsonb') return JSON.stringify(value);
  if (kind === 'text[]') return pgTextArray(value as string[]);
  if (kind === 'numeric' || kind === 'int4') return typeof value === 'number' ? String(value) : value;
  return value;
}

/**
 * Inserts many rows with one statement per chunk: one array parameter per column, spread by
 * `unnest`. Far fewer parameters than multi-row VALUES, and the same SQL on PGlite and PostgreSQL.
 */
export async function bulkInsert(
  db: Kysely<unknown>,
  table: string,
  columns: ColumnSpec,
  rows: readonly Record<string, unknown>[],
  options: { onConflict?: string; chunk?: number } = {},
): Promise<void> {
  const chunk = options.chunk ?? 5000;
  const list = columns.map(([name]) => `"${name}"`).join(', ');
  const params = columns.map(([, kind], i) => {
    const paramKind = kind === 'text[]' || kind === 'jsonb' ? 'text' : kind;
    return `$${i + 1}::${paramKind}[]`;
  });
  const selects = columns.map(([name, kind]) =>
    kind === 'text[]' ? `u."${name}"::text[]` : kind === 'jsonb' ? `u."${name}"::jsonb` : `u."${name}"`,
  );
  const text =
    `insert into "${table}" (${list}) select ${selects.join(', ')} from unnest(${params.join(', ')}) as u(${list})` +
    (options.onConflict ? ` ${options.onConflict}` : '');
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    const parameters = columns.map(([name, kind]) => part.map((row) => cell(kind, row[name])));
    await db.executeQuery(CompiledQuery.raw(text, parameters));
  }
}
