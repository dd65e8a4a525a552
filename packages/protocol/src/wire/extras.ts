/**
 * The domain-specific sync endpoints of IBR and DR (`dci-brief.md` §1.3, §3.4, §12 item 21), and
 * the OpenDCI verify extension (contract §9).
 */
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import {
  CorrelationId,
  DateTime,
  JsonObject,
  Locale,
  Pagination,
  ReasonMessage,
  ReferenceId,
  RequestStatus,
  SearchStatusReasonCodeSchema,
  StringEnum,
  TransactionId,
  YesNo,
} from './common.js';
import { IdTypeValueQuery, QueryTypeSchema } from './query.js';

// ---------------------------------------------------------------------------------------------
// IBR

/**
 * `EnrolledRequest` (`ibr/registry/sync/enrolled`). The spec requires neither member of
 * `enrolled_criteria`; its `query` is a free object (e.g. `{ person_identifier: { eq: "…" } }`).
 */
export const EnrolledRequest = Type.Object({
  transaction_id: TransactionId,
  enrolled_criteria: Type.Object({
    query_type: Type.Optional(QueryTypeSchema),
    response_entity: Type.Optional(Type.String()),
    query: Type.Optional(JsonObject),
  }),
});
export type EnrolledRequest = Static<typeof EnrolledRequest>;

/**
 * The items of `EnrolledResponse` / `EnrollmentUpdatesResponse` / `DisabledResponse`: they require
 * a `reference_id` that the requests do not carry (we echo `transaction_id`), and have no reason
 * code, only a message.
 */
const statusItem = {
  reference_id: ReferenceId,
  timestamp: DateTime,
  status: RequestStatus,
  status_reason_message: Type.Optional(ReasonMessage),
};

/** `EnrolledResponse`: `enrolled_status` yes/no per item. */
export const EnrolledResponse = Type.Object({
  transaction_id: TransactionId,
  correlation_id: CorrelationId,
  enrolled_response: Type.Array(Type.Object({ ...statusItem, enrolled_status: YesNo })),
});
export type EnrolledResponse = Static<typeof EnrolledResponse>;

/** `EnrollmentUpdatesRequest` (`ibr/registry/sync/enrollment/updates`, sent by the SP-MIS). */
export const EnrollmentUpdatesRequest = Type.Object({
  transaction_id: TransactionId,
  enrolled_updates: Type.Object({ beneficiaries: Type.Optional(Type.Array(JsonObject)) }),
});
export type EnrollmentUpdatesRequest = Static<typeof EnrollmentUpdatesRequest>;

/** `EnrollmentUpdatesResponse`. */
export const EnrollmentUpdatesResponse = Type.Object({
  transaction_id: TransactionId,
  correlation_id: CorrelationId,
  enrolled_response: Type.Array(Type.Object(statusItem)),
});
export type EnrollmentUpdatesResponse = Static<typeof EnrollmentUpdatesResponse>;

// ---------------------------------------------------------------------------------------------
// DR

/**
 * `DisabledRequest` (`dr/registry/sync/disabled`); also `GetDisabilitySupportRequest`
 * (`sync/get-disability-support`, and `sync/get-disability-details`, which reuses it) and the [A]
 * `GetDisabilityInfoRequest` (`sync/get-disability-info`): the same `disabled_criteria`.
 */
export const DisabledRequest = Type.Object({
  transaction_id: TransactionId,
  disabled_criteria: Type.Object({
    query_type: Type.Optional(QueryTypeSchema),
    query: Type.Optional(JsonObject),
  }),
});
export type DisabledRequest = Static<typeof DisabledRequest>;
export const GetDisabilitySupportRequest = DisabledRequest;
export type GetDisabilitySupportRequest = DisabledRequest;

/** `DisabledResponse`: `disabled_status` yes/no per item. */
export const DisabledResponse = Type.Object({
  transaction_id: TransactionId,
  correlation_id: CorrelationId,
  disabled_response: Type.Array(Type.Object({ ...statusItem, disabled_status: YesNo })),
});
export type DisabledResponse = Static<typeof DisabledResponse>;

/** A search-response-shaped DR answer whose `data` holds only `version` and `reg_records`. */
function drRecordsResponse<R extends TSchema>(records: R) {
  return Type.Object({
    transaction_id: TransactionId,
    correlation_id: CorrelationId,
    search_response: Type.Array(
      Type.Object({
        reference_id: ReferenceId,
        timestamp: DateTime,
        status: RequestStatus,
        status_reason_code: Type.Optional(SearchStatusReasonCodeSchema),
        status_reason_message: Type.Optional(ReasonMessage),
        data: Type.Optional(Type.Object({ version: Type.Optional(Type.String()), reg_records: records })),
        pagination: Type.Optional(Pagination),
        locale: Type.Optional(Locale),
      }),
    ),
  });
}

/**
 * `GetDisabilitySupportResponse`: `reg_records` is a list of lists (spec as written; one inner
 * list of DisabilitySupport records per person).
 */
export const GetDisabilitySupportResponse = drRecordsResponse(Type.Array(Type.Array(JsonObject)));
export type GetDisabilitySupportResponse = Static<typeof GetDisabilitySupportResponse>;

/** `GetDisabilityInfoResponse` (`sync/get-disability-details`, [A] `get-disability-info`). */
export const GetDisabilityInfoResponse = drRecordsResponse(Type.Array(JsonObject));
export type GetDisabilityInfoResponse = Static<typeof GetDisabilityInfoResponse>;

// ---------------------------------------------------------------------------------------------
// Verify (OpenDCI extension, contract §9)

/** `verify_criteria`: an `idtype-value` query and the claims to check (attribute → value). */
export const VerifyCriteria = Type.Object({
  query_type: Type.Literal('idtype-value'),
  query: IdTypeValueQuery,
  claims: Type.Unsafe<Record<string, unknown>>({ type: 'object', minProperties: 1 }),
});
export type VerifyCriteria = Static<typeof VerifyCriteria>;

export const VerifyRequestItem = Type.Object({
  reference_id: ReferenceId,
  timestamp: DateTime,
  verify_criteria: VerifyCriteria,
  locale: Type.Optional(Locale),
});
export type VerifyRequestItem = Static<typeof VerifyRequestItem>;

/** `VerifyRequest` (`registry/sync/verify`, action `verify`). */
export const VerifyRequest = Type.Object({
  transaction_id: TransactionId,
  verify_request: Type.Array(VerifyRequestItem),
});
export type VerifyRequest = Static<typeof VerifyRequest>;

/** A verification outcome: `unknown` when the value is not recorded or the person not found. */
export const VERIFY_OUTCOMES = ['yes', 'no', 'unknown'] as const;
export const VerifyOutcome = StringEnum(VERIFY_OUTCOMES);
export type VerifyOutcome = Static<typeof VerifyOutcome>;

export const VerifyResponseItem = Type.Object({
  reference_id: ReferenceId,
  timestamp: DateTime,
  status: RequestStatus,
  status_reason_code: Type.Optional(SearchStatusReasonCodeSchema),
  status_reason_message: Type.Optional(ReasonMessage),
  verified: VerifyOutcome,
  claims: Type.Record(Type.String(), VerifyOutcome),
  locale: Type.Optional(Locale),
});
export type VerifyResponseItem = Static<typeof VerifyResponseItem>;

/** `VerifyResponse` (action `on-verify`). No record data is ever returned. */
export const VerifyResponse = Type.Object({
  transaction_id: TransactionId,
  correlation_id: CorrelationId,
  verify_response: Type.Array(VerifyResponseItem),
});
export type VerifyResponse = Static<typeof VerifyResponse>;
