/**
 * Checking claims about one registrant (contract §9, the OpenDCI verify extension): the record
 * named by an identifier is looked up and every claim (`attribute: value`) is answered `yes`,
 * `no` or `unknown` — never with the recorded value. A claim is `unknown` when the attribute is
 * not recorded for the record, and every claim is `unknown` when no record (visible to the
 * sender) holds the identifier.
 *
 * Claims use the search vocabulary (`vocabulary.ts`, including `is_alive`) and the search
 * compiler: the record is found exactly as an `idtype-value` search finds it (same record
 * types, same consent filter), and each claim compiles to the condition a search on that
 * attribute would use. All claims of one check run as one parameterised SQL statement: per
 * claim `case when <not recorded> then null when <claim holds> then true else false end`.
 * Caller names reach SQL only through the allow-list, caller values only as parameters.
 */
import { sql, type Kysely } from 'kysely';
import { QUERY_LIMITS, parseSearchQuery, type CmpOp } from '@opendci/protocol';
import type { Domain } from '../config.js';
import type { DB } from '../db/schema.js';
import { compileSearch, compileWhere, type ConsentFilter } from './compile.js';
import { invalid, shown, type Sql } from './sql.js';
import {
  VOCABULARY,
  resolveAttribute,
  type CompileContext,
  type RecordKind,
  type RecordTypeDef,
} from './vocabulary.js';

export type ClaimOutcome = 'yes' | 'no' | 'unknown';

export interface CheckClaimsOptions {
  domain: Domain;
  /** The identifier naming the registrant (`idtype-value`): its type and value. */
  idType: string;
  idValue: string;
  /** `attribute: value` (implicit equality) or `attribute: {operator: value}`. */
  claims: Readonly<Record<string, unknown>>;
  /** For senders whose legal basis is consent: a record without a valid consent for this sender is not found. */
  consentSenderId?: string;
  /** The clock (consent validity and `age`); default now. */
  now?: Date;
}

export interface ClaimCheck {
  /** Whether a record (visible to the sender) holds the identifier. */
  found: boolean;
  /** The outcome of every claim, under the caller's attribute names, in the caller's order. */
  claims: Record<string, ClaimOutcome>;
}

/** The most claims one check may carry (the search bound on terms). */
export const MAX_CLAIMS = QUERY_LIMITS.maxNodes;

/** Operators a claim may name (`{"age": {"$gte": 18}}`); `$` optional, as in search expressions. */
const CLAIM_OPERATORS: Readonly<Record<string, CmpOp>> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'gt',
  gte: 'gte',
  ge: 'gte',
  lt: 'lt',
  lte: 'lte',
  le: 'lte',
  in: 'in',
  nin: 'nin',
};

const BASES: Record<RecordKind, { from: Sql; id: Sql }> = {
  individual: { from: sql`individual i`, id: sql`i.id` },
  household: { from: sql`household h`, id: sql`h.id` },
};

const isObj = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A claim's value → the comparison it asks for. Throws `QueryError` for anything else. */
function claimComparison(name: string, value: unknown): { op: CmpOp; value: unknown } {
  if (typeof value === 'string' || typeof value === 'boolean') return { op: 'eq', value };
  if (typeof value === 'number' && Number.isFinite(value)) return { op: 'eq', value };
  if (isObj(value)) {
    const keys = Object.keys(value);
    const op = keys.length === 1 ? CLAIM_OPERATORS[keys[0]!.replace(/^\$/, '').toLowerCase()] : undefined;
    if (op === undefined)
      invalid(`the claim on ${shown(name)} must be a value or one operator (eq, ne, gt, gte, lt, lte, in, nin)`);
    const operand = value[keys[0]!];
    if (op === 'in' || op === 'nin') {
      if (!Array.isArray(operand) || operand.length === 0) invalid(`${op} in the claim on ${shown(name)} needs a list`);
      if (operand.length > QUERY_LIMITS.maxListValues)
        invalid(`the claim on ${shown(name)} lists more than ${QUERY_LIMITS.maxListValues} values`);
      return { op, value: operand };
    }
    if (operand === null || typeof operand === 'object')
      invalid(`${op} in the claim on ${shown(name)} needs a single value`);
    return { op, value: operand };
  }
  return invalid(`the claim on ${shown(name)} needs a value (a string, number or boolean)`);
}

interface CompiledClaims {
  type: RecordTypeDef;
  /** One `case` per claim, or the first rejection of a claim on this record type. */
  columns: Sql[] | { error: unknown };
}

/** Every claim as `case when <not recorded> then null when <holds> then true else false end`. */
function compileClaims(
  type: RecordTypeDef,
  claims: readonly (readonly [string, { op: CmpOp; value: unknown }])[],
  ctx: CompileContext,
): CompiledClaims {
  try {
    const columns = claims.map(([attribute, { op, value }]) => {
      resolveAttribute(type, attribute);
      const holds = compileWhere(type, { kind: 'cmp', attribute, op, value }, ctx);
      const recorded = compileWhere(type, { kind: 'cmp', attribute, op: 'exists', value: true }, ctx);
      return sql`case when (${recorded}) is not true then null when (${holds}) is true then true else false end`;
    });
    return { type, columns };
  } catch (error) {
    return { type, columns: { error } };
  }
}

/**
 * Answers the claims about the record holding an identifier. Throws `QueryError`
 * (`rjct.search_criteria.invalid`) for a bad identifier, an attribute outside the vocabulary of
 * the record type, or a value that cannot be read — before looking at any record, except when
 * the domain serves households: then a claim must fit the record type of the record found.
 */
export async function checkClaims(db: Kysely<DB>, options: CheckClaimsOptions): Promise<ClaimCheck> {
  const { domain } = options;
  const vocabulary = VOCABULARY[domain];
  if (!vocabulary) invalid(`unknown domain ${shown(domain)}`);
  const { node } = parseSearchQuery('idtype-value', { type: options.idType, value: options.idValue });
  if (!isObj(options.claims)) invalid('claims must be an object of attribute: value');
  const entries = Object.entries(options.claims);
  if (entries.length === 0) invalid('claims must name at least one attribute');
  if (entries.length > MAX_CLAIMS) invalid(`more than ${MAX_CLAIMS} claims`);
  const claims = entries.map(([name, value]) => [name, claimComparison(name, value)] as const);

  const now = options.now ?? new Date();
  const ctx: CompileContext = { today: now.toISOString().slice(0, 10) };
  const consent: ConsentFilter | undefined =
    options.consentSenderId === undefined ? undefined : { senderId: options.consentSenderId, now };

  // The identifier's holder may be a person or (social, IBR) a household, as in an idtype-value
  // search: the claims are compiled for each record type the domain serves.
  const compiled = vocabulary.types.map((type) => compileClaims(type, claims, ctx));
  const usable = compiled.filter((c) => Array.isArray(c.columns));
  if (usable.length === 0) {
    // Prefer the reason given by a record type that knows every claimed attribute (a bad value).
    const named = compiled.find((c) => claims.every(([name]) => knows(c.type, name))) ?? compiled[0]!;
    throw (named.columns as { error: unknown }).error;
  }

  const parts = compiled.map(({ type, columns }) => {
    const base = BASES[type.kind];
    const holder = compileSearch({
      recordType: type,
      node,
      sort: [],
      pageSize: 1,
      pageNumber: 1,
      today: ctx.today,
      ...(consent ? { consent } : {}),
    }).page;
    const values = Array.isArray(columns) ? columns : claims.map(() => sql`null::boolean`);
    const selected = sql.join([
      sql`${type.name}::text as record_type`,
      ...values.map((v, n) => sql`${v} as ${sql.id(`c${n}`)}`),
    ]);
    return sql`select ${selected} from ${base.from} where ${base.id} = (${holder})`;
  });
  const { rows } = await sql<Record<string, unknown>>`${sql.join(parts, sql` union all `)}`.execute(db);
  const row = rows[0];
  if (!row) return { found: false, claims: Object.fromEntries(claims.map(([name]) => [name, 'unknown' as const])) };
  const hit = compiled.find((c) => c.type.name === row.record_type);
  if (hit && !Array.isArray(hit.columns)) throw hit.columns.error;
  return {
    found: true,
    claims: Object.fromEntries(
      claims.map(([name], n) => {
        const value = row[`c${n}`];
        return [name, value === true ? 'yes' : value === false ? 'no' : 'unknown'] as const;
      }),
    ),
  };
}

function knows(type: RecordTypeDef, name: string): boolean {
  try {
    resolveAttribute(type, name);
    return true;
  } catch {
    return false;
  }
}
