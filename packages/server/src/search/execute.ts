/**
 * Running a search item: `search_criteria` → parsed query, record type, sort and page → ids of
 * the matching entities (in page order) and the total count. Item-level rejections are thrown
 * as `QueryError` (`rjct.search_criteria.invalid`, `rjct.sort.invalid`, `rjct.pagination.invalid`);
 * the caller turns them into a `rjct` result for that item.
 */
import { sql, type Kysely } from 'kysely';
import { parseSearchQuery, parseSort, type QueryNode } from '@opendci/protocol';
import type { Domain } from '../config.js';
import { prepared } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import type { DciRecord } from '../domains/records.js';
import { compileSearch, type ConsentFilter } from './compile.js';
import { invalid } from './sql.js';
import { VOCABULARY, resolveRecordType, type RecordKind, type RecordTypeDef } from './vocabulary.js';

export interface RunSearchOptions {
  domain: Domain;
  /** The item's `search_criteria` (query_type, query, sort, record_type / reg_record_type / response_entity). */
  criteria: unknown;
  /** Already clamped to the configured maximum by the caller. */
  pageSize: number;
  /** 1-based. */
  pageNumber: number;
  /** For senders whose legal basis is consent: only people (households: their head) with a valid consent for this sender. */
  consentSenderId?: string;
  /** Narrows the consent to this purpose (or `any`). */
  consentPurpose?: string;
  /** The clock (consent validity and `age`); default now. */
  now?: Date;
  /**
   * Finds who holds an identifier (idtype-value) and, given a record type, reads a person holder's
   * record as that type in the same statement (`RegistryReader.holderOf`); default: the holder only.
   */
  holderLookup?: HolderLookup;
}

/** Who holds an identifier; `record` when the lookup also read them as `recordType`. */
export interface IdentifierHolding {
  entity_type: string;
  entity_id: string;
  record?: DciRecord;
}

export type HolderLookup = (
  idType: string,
  value: string,
  recordType: string | undefined,
) => Promise<IdentifierHolding | null>;

export interface SearchResult {
  /** Entity ids (`individual.id` or `household.id`) of the page, in order. */
  ids: string[];
  recordKind: RecordKind;
  /** The canonical record type answered (`Member`, `Group`, `Person`, `Beneficiary`, `DisabledPerson`, `Farmer`). */
  recordType: string;
  /** All matches, not only this page. */
  totalCount: number;
  /** The page's records when the search read them itself (a plain identifier lookup by `holderLookup`). */
  records?: ReadonlyMap<string, DciRecord>;
}

const isObj = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Who holds an identifier (one holder per type and value: the identifier table is unique on them). */
export async function identifierHolder(
  db: Kysely<DB>,
  idType: string,
  value: string,
): Promise<IdentifierHolding | null> {
  const { rows } = await sql<{ entity_type: string; entity_id: string }>`${prepared}
    select entity_type, entity_id from identifier
    where id_type = ${idType}::text and id_value = ${value}::text`.execute(db);
  return rows[0] ?? null;
}

/**
 * An `idtype-value` search that names no record type answers with the record that holds the
 * identifier: a household identifier gives the domain's group type (when it has one).
 */
function holderType(domain: Domain, holder: { entity_type: string } | null | undefined): RecordTypeDef | undefined {
  const household = VOCABULARY[domain].household;
  return household && holder?.entity_type === 'household' ? household : undefined;
}

/**
 * A plain identifier lookup (a record type with no per-row scope, held by its own entity, no
 * consent filter) is answered by the holder found above, without a second query.
 */
function directHit(
  type: RecordTypeDef,
  node: QueryNode,
  consent: ConsentFilter | undefined,
): node is Extract<QueryNode, { kind: 'identifier' }> {
  return (
    node.kind === 'identifier' &&
    !consent &&
    type.scope === 'none' &&
    type.holders.length === 1 &&
    type.holders[0]!.entity === type.kind
  );
}

/** Runs one search item. Throws `QueryError` for item-level rejections. */
export async function runSearch(db: Kysely<DB>, options: RunSearchOptions): Promise<SearchResult> {
  const { domain, criteria } = options;
  if (!VOCABULARY[domain]) invalid(`unknown domain ${String(domain)}`);
  if (!isObj(criteria)) invalid('search_criteria must be an object');
  const { node, collection } = parseSearchQuery(criteria.query_type, criteria.query);
  const sort = parseSort(criteria.sort);
  const resolved = resolveRecordType(domain, criteria, collection);
  const now = options.now ?? new Date();
  const consent: ConsentFilter | undefined =
    options.consentSenderId === undefined
      ? undefined
      : {
          senderId: options.consentSenderId,
          now,
          ...(options.consentPurpose === undefined ? {} : { purpose: options.consentPurpose }),
        };
  let holder: IdentifierHolding | null | undefined;
  if (node.kind === 'identifier') {
    // The record is read with the lookup only when the lookup is the whole search (its first page).
    const wanted =
      resolved.type.kind === 'individual' && directHit(resolved.type, node, consent) && options.pageNumber === 1
        ? resolved.type.name
        : undefined;
    holder = options.holderLookup
      ? await options.holderLookup(node.type, node.value, wanted)
      : await identifierHolder(db, node.type, node.value);
  }
  const type = (!resolved.explicit && holderType(domain, holder)) || resolved.type;
  const compiled = compileSearch({
    recordType: type,
    node,
    sort,
    pageSize: options.pageSize,
    pageNumber: options.pageNumber,
    today: now.toISOString().slice(0, 10),
    ...(consent ? { consent } : {}),
  });
  if (directHit(type, node, consent)) {
    const held = holder && holder.entity_type === type.kind ? holder : undefined;
    const onPage = held && compiled.offset === 0 ? held : undefined;
    // The record read with the lookup is of the type answered only when the type was not switched to the holder's.
    const record = onPage && type === resolved.type ? onPage.record : undefined;
    return {
      ids: onPage ? [onPage.entity_id] : [],
      recordKind: type.kind,
      recordType: type.name,
      totalCount: held ? 1 : 0,
      ...(record ? { records: new Map([[onPage!.entity_id, record]]) } : {}),
    };
  }
  const { rows } = await compiled.page.execute(db);
  const ids = rows.map((r) => r.id);
  // A page that is neither empty nor full tells the total without counting.
  let totalCount: number;
  if (ids.length > 0 && ids.length < compiled.limit) totalCount = compiled.offset + ids.length;
  else {
    const counted = await compiled.count.execute(db);
    totalCount = Number(counted.rows[0]?.count ?? 0);
  }
  return { ids, recordKind: type.kind, recordType: type.name, totalCount };
}
