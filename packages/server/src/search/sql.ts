/**
 * SQL building blocks of the search compiler. Every fragment is a Kysely `sql` template whose
 * text is a constant of this module or of `vocabulary.ts`; caller values only ever enter as
 * parameters (`${value}` placeholders), caller names never enter at all.
 */
import { sql, type RawBuilder } from 'kysely';
import { QueryError } from '@opendci/protocol';

export type Sql = RawBuilder<unknown>;

/** A compiled condition. `nullable`: it may evaluate to NULL (a comparison on a missing value). */
export interface Condition {
  sql: Sql;
  nullable: boolean;
}

export const TRUE: Condition = { sql: sql`true`, nullable: false };
export const FALSE: Condition = { sql: sql`false`, nullable: false };

/**
 * Negation with "missing is false" semantics: `NOT` of a nullable condition is `IS NOT TRUE`, so
 * `not (age > 60)` also matches people without a birth date (as MongoDB's `$not` does).
 */
export function not(c: Condition): Condition {
  if (c === TRUE) return FALSE;
  if (c === FALSE) return TRUE;
  return { sql: c.nullable ? sql`(${c.sql}) is not true` : sql`not (${c.sql})`, nullable: false };
}

export function and(items: readonly Condition[]): Condition {
  const list = items.filter((c) => c !== TRUE);
  if (list.some((c) => c === FALSE)) return FALSE;
  if (list.length === 0) return TRUE;
  if (list.length === 1) return list[0]!;
  return {
    sql: sql`(${sql.join(
      list.map((c) => c.sql),
      sql` and `,
    )})`,
    nullable: list.some((c) => c.nullable),
  };
}

export function or(items: readonly Condition[]): Condition {
  const list = items.filter((c) => c !== FALSE);
  if (list.some((c) => c === TRUE)) return TRUE;
  if (list.length === 0) return FALSE;
  if (list.length === 1) return list[0]!;
  return {
    sql: sql`(${sql.join(
      list.map((c) => c.sql),
      sql` or `,
    )})`,
    nullable: list.some((c) => c.nullable),
  };
}

/** How a parameter is typed in SQL: it must match the column's type for its index to be used. */
export type Cast = 'text' | 'ci' | 'date' | 'numeric' | 'integer';

export type Scalar = string | number | boolean;

/** A typed parameter. `ci` = lower-cased by the database, for `lower(column)` comparisons. */
export function param(value: Scalar, cast: Cast): Sql {
  switch (cast) {
    case 'text':
      return sql`${value}::text`;
    case 'ci':
      return sql`lower(${value}::text)`;
    case 'date':
      return sql`${value}::date`;
    case 'numeric':
      return sql`${value}::numeric`;
    case 'integer':
      return sql`${value}::integer`;
  }
}

export type CompareOp = 'eq' | 'gt' | 'gte' | 'lt' | 'lte';

/** `left op right` for the five ordered comparisons. */
export function compare(left: Sql, op: CompareOp, right: Sql): Sql {
  switch (op) {
    case 'eq':
      return sql`${left} = ${right}`;
    case 'gt':
      return sql`${left} > ${right}`;
    case 'gte':
      return sql`${left} >= ${right}`;
    case 'lt':
      return sql`${left} < ${right}`;
    case 'lte':
      return sql`${left} <= ${right}`;
  }
}

export function invalid(message: string): never {
  throw new QueryError('rjct.search_criteria.invalid', message);
}

/** A short, printable form of caller text for messages (never the whole of a long value). */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 60 ? `${clean.slice(0, 57)}...` : clean);
}
