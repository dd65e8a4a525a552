/**
 * Search: `SearchRequest` (message of `registry/search` and `registry/sync/search`) and
 * `SearchResponse` (message of `registry/on-search` and of the sync response),
 * `dci-brief.md` §3.
 */
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import {
  CorrelationId,
  DateTime,
  JsonObject,
  Locale,
  Pagination,
  PaginationRequest,
  ReasonMessage,
  ReferenceId,
  RequestStatus,
  SearchStatusReasonCodeSchema,
  Sort,
  TransactionId,
} from './common.js';
import {
  ExpressionQuery,
  GraphqlQuery,
  IdTypeValueQuery,
  PredicateQuery,
  QueryTypeSchema,
  discriminate,
} from './query.js';

/**
 * `search_criteria` members other than the query. Besides [C]'s `reg_type`/`reg_record_type`,
 * accepted for older peers: `reg_event_type` ([A]/[B]), `record_type` (contract §7).
 * `response_entity` is any string: the spec's enum is `Group|Member`, its examples use
 * `Household`, `member`, `Beneficiary` (brief §10.2 #16); the engine maps it.
 */
const criteriaBase = {
  version: Type.Optional(Type.String()),
  reg_type: Type.Optional(Type.String()),
  reg_record_type: Type.Optional(Type.String()),
  record_type: Type.Optional(Type.String()),
  reg_event_type: Type.Optional(Type.String()),
  response_entity: Type.Optional(Type.String()),
  sort: Type.Optional(Sort),
  pagination: Type.Optional(PaginationRequest),
  consent: Type.Optional(JsonObject),
  authorize: Type.Optional(JsonObject),
};

// Only for the static type: the discriminated union the runtime schema below enforces.
const _criteriaUnion = Type.Union([
  Type.Object({ ...criteriaBase, query_type: Type.Literal('idtype-value'), query: IdTypeValueQuery }),
  Type.Object({ ...criteriaBase, query_type: Type.Literal('expression'), query: ExpressionQuery }),
  Type.Object({ ...criteriaBase, query_type: Type.Literal('predicate'), query: PredicateQuery }),
  Type.Object({ ...criteriaBase, query_type: Type.Literal('graphql'), query: GraphqlQuery }),
]);

/** `search_criteria`: a discriminated union on `query_type`. */
export type SearchCriteria = Static<typeof _criteriaUnion>;
export const SearchCriteria = Type.Unsafe<SearchCriteria>(
  Type.Object(
    { ...criteriaBase, query_type: QueryTypeSchema, query: Type.Unsafe({ type: ['object', 'array'] }) },
    discriminate('query_type', 'query'),
  ),
);

/**
 * One `search_request[]` item. `pagination` is also accepted at item level, where the compliance
 * suite puts it (brief §12 item 9); `search_criteria.pagination` wins when both are given.
 */
export const SearchRequestItem = Type.Object({
  reference_id: ReferenceId,
  timestamp: DateTime,
  search_criteria: SearchCriteria,
  locale: Type.Optional(Locale),
  pagination: Type.Optional(PaginationRequest),
});
export type SearchRequestItem = Static<typeof SearchRequestItem>;

/** `SearchRequest`. */
export const SearchRequest = Type.Object({
  transaction_id: TransactionId,
  search_request: Type.Array(SearchRequestItem),
});
export type SearchRequest = Static<typeof SearchRequest>;

/** The records of a search answer: a list for SR, CRVS, IBR and FR. */
export const RecordList = Type.Array(JsonObject);
/** … and a single object for DR (and in every notify). */
export const SingleRecord = JsonObject;
/** Either form: what we accept from peers of any version ([A]/[B] CRVS and FR used an object). */
export const AnyRecords = Type.Union([Type.Array(JsonObject), JsonObject]);

/** Builds `data`, the item, and the message of a search response around a records schema. */
function searchResponseSchemas<R extends TSchema>(records: R) {
  const data = Type.Object({
    version: Type.Optional(Type.String()),
    reg_type: Type.Optional(Type.String()),
    reg_record_type: Type.Optional(Type.String()),
    reg_records: records,
  });
  const item = Type.Object({
    reference_id: ReferenceId,
    timestamp: DateTime,
    status: RequestStatus,
    status_reason_code: Type.Optional(SearchStatusReasonCodeSchema),
    status_reason_message: Type.Optional(ReasonMessage),
    data: Type.Optional(data),
    pagination: Type.Optional(Pagination),
    locale: Type.Optional(Locale),
  });
  const message = Type.Object({
    transaction_id: TransactionId,
    correlation_id: CorrelationId,
    search_response: Type.Array(item),
  });
  return { data, item, message };
}

const listForm = searchResponseSchemas(RecordList);
const objectForm = searchResponseSchemas(SingleRecord);
const anyForm = searchResponseSchemas(AnyRecords);

/** `SearchResponse` of SR, CRVS, IBR and FR: `data.reg_records` is an array. */
export const SearchResponse = listForm.message;
export type SearchResponse = Static<typeof SearchResponse>;
export const SearchResponseItem = listForm.item;
export type SearchResponseItem = Static<typeof SearchResponseItem>;
export const SearchResponseData = listForm.data;
export type SearchResponseData = Static<typeof SearchResponseData>;

/** DR `SearchResponse`: `data.reg_records` is one object (contract §7). */
export const DrSearchResponse = objectForm.message;
export type DrSearchResponse = Static<typeof DrSearchResponse>;
export const DrSearchResponseItem = objectForm.item;
export type DrSearchResponseItem = Static<typeof DrSearchResponseItem>;

/** A search response of any domain or version (inbound on-search callbacks, txn status). */
export const AnySearchResponse = anyForm.message;
export type AnySearchResponse = Static<typeof AnySearchResponse>;
