/**
 * Search: the protocol handler behind `…/registry/sync/search` (and, later, the async job).
 * Each `search_request` item is answered on its own: a bad item is a `rjct` result, never an
 * exception; no hits is `succ` with empty `reg_records`.
 */
import {
  searchResponseItem,
  searchResponseMessage,
  type SearchResponseItemOf,
  type SearchResponseOf,
  type SearchStatusReasonCode,
} from '@opendci/protocol';
import type { Domain } from '../config.js';
import { cutFields, type DciRecord } from '../domains/records.js';
import type { FoundRecord } from '../registry/reader.js';
import type { Caller } from './inbound.js';

export interface SearchPorts {
  findByIdentifier(type: string, value: string): Promise<FoundRecord | undefined>;
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

export interface SearchOutcome {
  message: SearchResponseOf<DciRecord[]>;
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pagination(item: Item, criteria: Item, settings: SearchSettings) {
  const given = (
    isObject(criteria.pagination) ? criteria.pagination : isObject(item.pagination) ? item.pagination : {}
  ) as Item;
  const size = typeof given.page_size === 'number' ? given.page_size : settings.defaultPageSize;
  const number = typeof given.page_number === 'number' ? given.page_number : 1;
  return { page_size: Math.min(size, settings.maxPageSize), page_number: number };
}

async function answer(
  item: Item,
  caller: Caller,
  ports: SearchPorts,
  settings: SearchSettings,
): Promise<SearchResponseItemOf<DciRecord[]>> {
  const criteria = item.search_criteria as Item;
  const page = pagination(item, criteria, settings);
  if (criteria.query_type !== 'idtype-value') {
    throw new ItemRejection(
      'rjct.search_criteria.invalid',
      `query_type ${String(criteria.query_type)} is not supported`,
    );
  }
  const query = criteria.query;
  if (
    !isObject(query) ||
    typeof query.type !== 'string' ||
    (typeof query.value !== 'string' && typeof query.value !== 'number')
  ) {
    throw new ItemRejection('rjct.search_criteria.invalid', 'an idtype-value query needs {type, value}');
  }
  const found = await ports.findByIdentifier(query.type, String(query.value));
  const records: DciRecord[] = found ? [cutFields(found.record, caller.sender.fields)] : [];
  const offset = (page.page_number - 1) * page.page_size;
  const recordType = found
    ? found.kind === 'household'
      ? 'Group'
      : 'Member'
    : ((criteria.reg_record_type as string | undefined) ?? 'Member');
  return searchResponseItem({
    referenceId: String(item.reference_id),
    records: records.slice(offset, offset + page.page_size),
    regType: REG_TYPES[settings.domain],
    regRecordType: recordType,
    pagination: { pageSize: page.page_size, pageNumber: page.page_number, totalCount: records.length },
    ...(typeof item.locale === 'string' ? { locale: item.locale } : {}),
  });
}

export async function search(
  message: { transaction_id: string; search_request: Item[] },
  correlationId: string,
  caller: Caller,
  ports: SearchPorts,
  settings: SearchSettings,
): Promise<SearchOutcome> {
  const seen = new Set<string>();
  const items: SearchResponseItemOf<DciRecord[]>[] = [];
  for (const item of message.search_request) {
    const referenceId = String(item.reference_id);
    try {
      if (seen.has(referenceId))
        throw new ItemRejection(
          'rjct.reference_id.duplicate',
          `reference_id ${referenceId} is used twice in this message`,
        );
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
