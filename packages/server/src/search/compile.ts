/**
 * Search AST → parameterised SQL (Kysely `sql` templates). Attribute names reach SQL only through
 * the allow-list (`vocabulary.ts`), values only as parameters. The page query returns entity ids
 * ordered by the requested sort keys and then by id (stable across pages); the count query
 * counts the same set. Plain PostgreSQL ≤ 15 SQL: runs alike on PGlite and PostgreSQL.
 */
import { sql, type RawBuilder } from 'kysely';
import { QueryError, type QueryNode, type SortKey } from '@opendci/protocol';
import { and, invalid, not, or, param, type Condition, type Sql } from './sql.js';
import {
  identifierCondition,
  resolveAttribute,
  type Attribute,
  type CompileContext,
  type RecordTypeDef,
} from './vocabulary.js';

/** The largest row offset a page may start at. */
const MAX_OFFSET = 1_000_000_000;

/** Consent filter: the sender may only see people who gave it a consent valid at `now`. */
export interface ConsentFilter {
  senderId: string;
  /** When given, a consent for this purpose or for `any`; otherwise a consent for any purpose. */
  purpose?: string;
  now: Date;
}

export interface SearchPlan {
  recordType: RecordTypeDef;
  node: QueryNode;
  sort: readonly SortKey[];
  pageSize: number;
  pageNumber: number;
  consent?: ConsentFilter;
  /** Today's date (`YYYY-MM-DD`), for `age`. */
  today: string;
}

export interface CompiledSearch {
  /** `select id … order by … limit … offset …` */
  page: RawBuilder<{ id: string }>;
  /** `select count(*) as count …` (a bigint: a string on both drivers). */
  count: RawBuilder<{ count: string | number }>;
  limit: number;
  offset: number;
}

interface Base {
  from: Sql;
  id: Sql;
  /** The person whose consent covers the record. */
  consentHolder: Sql;
}

const BASES: Record<RecordTypeDef['kind'], Base> = {
  individual: { from: sql`individual i`, id: sql`i.id`, consentHolder: sql`i.id` },
  household: { from: sql`household h`, id: sql`h.id`, consentHolder: sql`h.head_id` },
};

/** The condition of a tree over the record type's aliases. Throws `QueryError`. */
export function compileCondition(type: RecordTypeDef, node: QueryNode, ctx: CompileContext): Condition {
  switch (node.kind) {
    case 'and':
      return and(node.items.map((n) => compileCondition(type, n, ctx)));
    case 'or':
      return or(node.items.map((n) => compileCondition(type, n, ctx)));
    case 'not':
      return not(compileCondition(type, node.item, ctx));
    case 'identifier':
      return identifierCondition(type, node.type, node.value);
    case 'cmp':
      return resolveAttribute(type, node.attribute).condition(node.op, node.value, ctx);
  }
}

/**
 * The full WHERE of a record type: per-row record types (IBR, DR, FR) match when one of the
 * entity's rows satisfies the whole condition.
 */
export function compileWhere(type: RecordTypeDef, node: QueryNode, ctx: CompileContext): Sql {
  const cond = compileCondition(type, node, ctx).sql;
  const id = BASES[type.kind].id;
  switch (type.scope) {
    case 'none':
      return cond;
    case 'enrollment':
      return sql`exists (select 1 from enrollment e join programme p on p.id = e.programme_id where e.beneficiary_id = ${id} and ${cond})`;
    case 'disability':
      return sql`exists (select 1 from disability d where d.individual_id = ${id} and ${cond})`;
    case 'farm':
      return sql`exists (select 1 from farm f where f.farmer_id = ${id} and ${cond})`;
  }
}

function consentCondition(type: RecordTypeDef, consent: ConsentFilter): Sql {
  const now = consent.now.toISOString();
  const purpose =
    consent.purpose === undefined ? sql`true` : sql`c.purpose in (${param(consent.purpose, 'text')}, 'any')`;
  return sql`${BASES[type.kind].consentHolder} in (select c.individual_id from consent c where c.sender_id = ${param(consent.senderId, 'text')} and c.given_at <= ${now}::timestamptz and (c.expires_at is null or c.expires_at > ${now}::timestamptz) and (c.revoked_at is null or c.revoked_at > ${now}::timestamptz) and ${purpose})`;
}

/** Resolves sort keys; an unknown or unsortable attribute is `rjct.sort.invalid`. */
export function sortAttributes(
  type: RecordTypeDef,
  sort: readonly SortKey[],
): { attribute: Attribute; order: 'asc' | 'desc' }[] {
  return sort.map((key) => {
    let attribute: Attribute;
    try {
      attribute = resolveAttribute(type, key.attribute);
    } catch (error) {
      if (error instanceof QueryError) throw new QueryError('rjct.sort.invalid', error.message);
      throw error;
    }
    if (!attribute.sortable) throw new QueryError('rjct.sort.invalid', `${attribute.name} cannot be sorted on`);
    return { attribute, order: key.order };
  });
}

export function checkPage(pageSize: number, pageNumber: number): { limit: number; offset: number } {
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new QueryError('rjct.pagination.invalid', 'page_size must be a whole number of at least 1');
  if (!Number.isInteger(pageNumber) || pageNumber < 1)
    throw new QueryError('rjct.pagination.invalid', 'page_number must be a whole number of at least 1');
  const offset = (pageNumber - 1) * pageSize;
  if (offset > MAX_OFFSET)
    throw new QueryError('rjct.pagination.invalid', 'the page starts beyond the last possible record');
  return { limit: pageSize, offset };
}

/** Compiles a search: the page query and the count query. Throws `QueryError`. */
export function compileSearch(plan: SearchPlan): CompiledSearch {
  const { recordType: type } = plan;
  const base = BASES[type.kind];
  const ctx: CompileContext = { today: plan.today };
  const order = sortAttributes(type, plan.sort);
  const { limit, offset } = checkPage(plan.pageSize, plan.pageNumber);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(plan.today)) invalid('today must be YYYY-MM-DD');
  const where = plan.consent
    ? sql`${compileWhere(type, plan.node, ctx)} and ${consentCondition(type, plan.consent)}`
    : compileWhere(type, plan.node, ctx);
  const orderBy = sql.join([...order.map((o) => o.attribute.orderBy(o.order)), sql`${base.id} asc`]);
  return {
    page: sql<{
      id: string;
    }>`select ${base.id} as id from ${base.from} where ${where} order by ${orderBy} limit ${limit} offset ${offset}`,
    count: sql<{ count: string | number }>`select count(*) as count from ${base.from} where ${where}`,
    limit,
    offset,
  };
}
