/**
 * Search: the protocol handler behind `…/registry/sync/search` and the async search job. Each
 * `search_request` item is answered on its own: a bad item is a `rjct` result, never an
 * exception; no hits is `succ` with empty `reg_records`.
 */
import {
  isDciError,
  searchResponseItem,
  searchResponseMessage,
  type SearchResponseItemOf,
  type SearchResponseOf,
  type SearchStatusReasonCode,
} from '@opendci/protocol';
import type { Domain } from '../config.js';
import { cutFields, type DciRecord } from '../domains/records.js';
import type { Caller } from './inbound.js';

export interface SearchPage {
  ids: string[];
  recordKind: 'individual' | 'household';
  recordType: string;
  totalCount: number;
  /** The page's records when the search read them itself (then `load` is not asked). */
  records?: ReadonlyMap<string, DciRecord>;
}

export interface SearchPorts {
  /** Runs one item's criteria; throws an error with a `rjct.*` `code` for a bad query. */
  find(input: {
    domain: Domain;
    criteria: unknown;
    pageSize: number;
    pageNumber: number;
    consentSenderId?: string;
  }): Promise<SearchPage>;
  /** The records of the ids, in the DCI shape of the resolved record type, keyed by id. */
  load(request: {
    domain: Domain;
    recordType: string;
    recordKind: 'individual' | 'household';
    ids: readonly string[];
  }): Promise<Map<string, DciRecord>>;
}

export interface SearchSettings {
  defaultPageSize: number;
  maxPageSize: number;
  domain: Domain;
}

export const REG_TYPES: Record<Domain, string> = {
  social: 'ns:org:RegistryType:Social',
  crvs: 'ns:org:RegistryType:Civil',
  ibr: 'ns:org:RegistryType:IBR',
  dr: 'ns:org:RegistryType:DR',
  fr: 'ns:org:RegistryType:FR',
};

type Item = Record<string, unknown>;

/** `reg_records`: a list, except in DR, whose answers carry one record as an object (contract §7). */
export type RegRecords = DciRecord[] | DciRecord;

export interface SearchOutcome {
  message: SearchResponseOf<RegRecords>;
  /** The header status: every item succ → succ, none → rjct, else part. */
  status: 'succ' | 'rjct' | 'part';
  referenceIds: string[];
}

class ItemRejection extends Error {
  constructor(
    readonly code: SearchStatusReasonCode,
    message: string,
  ) {
    super(message);
  }
}

const REJECTIONS: ReadonlySet<string> = new Set([
  'rjct.search_criteria.invalid',
  'rjct.sort.invalid',
  'rjct.filter.invalid',
  'rjct.pagination.invalid',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Pagination from `search_criteria.pagination` (spec) or the item (compliance suite); clamped to the maximum. */
function pagination(item: Item, criteria: Item, settings: SearchSettings) {
  const given = (
    isObject(criteria.pagination) ? criteria.pagination : isObject(item.pagination) ? item.pagination : {}
  ) as Item;
  const size = typeof given.page_size === 'number' ? given.page_size : settings.defaultPageSize;
  const number = typeof given.page_number === 'number' ? given.page_number : 1;
  return { pageSize: Math.min(size, settings.maxPageSize), pageNumber: number };
}

async function answer(
  item: Item,
  caller: Caller,
  ports: SearchPorts,
  settings: SearchSettings,
): Promise<SearchResponseItemOf<RegRecords>> {
  const criteria = item.search_criteria as Item;
  const page = pagination(item, criteria, settings);
  let found: SearchPage;
  try {
    found = await ports.find({
      domain: settings.domain,
      criteria,
      ...page,
      ...(caller.sender.legalBasis === 'consent' ? { consentSenderId: caller.sender.id } : {}),
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!isDciError(error) && typeof code === 'string' && REJECTIONS.has(code)) {
      throw new ItemRejection(code as SearchStatusReasonCode, (error as Error).message);
    }
    throw error;
  }
  if (settings.domain === 'dr' && found.totalCount > 1) {
    throw new ItemRejection(
      'rjct.search.too_many_records_found',
      `${found.totalCount} records match: a DR answer carries one`,
    );
  }
  const loaded =
    found.records ??
    (await ports.load({
      domain: settings.domain,
      recordType: found.recordType,
      recordKind: found.recordKind,
      ids: found.ids,
    }));
  const records = found.ids.flatMap((id) => {
    const record = loaded.get(id);
    return record ? [cutFields(record, caller.sender.fields)] : [];
  });
  return searchResponseItem<RegRecords>({
    referenceId: String(item.reference_id),
    records: settings.domain === 'dr' ? (records[0] ?? {}) : records,
    regType: REG_TYPES[settings.domain],
    regRecordType: found.recordType,
    pagination: { ...page, totalCount: found.totalCount },
    ...(typeof item.locale === 'string' ? { locale: item.locale } : {}),
  });
}

/** The message of a search request, as validated. */
export interface SearchMessage {
  transaction_id: string;
  search_request: Item[];
}

export async function search(
  message: SearchMessage,
  correlationId: string,
  caller: Caller,
  ports: SearchPorts,
  settings: SearchSettings,
): Promise<SearchOutcome> {
  const seen = new Set<string>();
  const items: SearchResponseItemOf<RegRecords>[] = [];
  for (const item of message.search_request) {
    const referenceId = String(item.reference_id);
    try {
      if (seen.has(referenceId)) {
        throw new ItemRejection(
          'rjct.reference_id.duplicate',
          `reference_id ${referenceId} is used twice in this message`,
        );
      }
      seen.add(referenceId);
      items.push(await answer(item, caller, ports, settings));
    } catch (error) {
      if (!(error instanceof ItemRejection)) throw error;
      items.push(
        searchResponseItem({ referenceId, status: 'rjct', reasonCode: error.code, reasonMessage: error.message }),
      );
    }
  }
  const succeeded = items.filter((r) => r.status === 'succ').length;
  return {
    message: searchResponseMessage({ transactionId: message.transaction_id, correlationId, items }),
    status: succeeded === items.length ? 'succ' : succeeded === 0 ? 'rjct' : 'part',
    referenceIds: items.map((r) => r.reference_id),
  };
}
