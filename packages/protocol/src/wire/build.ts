/**
 * Builders of every message this project emits, in the exact [C] shape (`../shared/spec/latest`):
 * the ACK and error bodies, headers, and the message bodies of requests (client side), responses,
 * callbacks and notifications (server side). Timestamps are ISO 8601 with `Z`, `locale` defaults
 * to `eng`, ids default to random UUIDs. Signing is separate (`signMessage`).
 */
import { randomUUID } from 'node:crypto';
import type {
  ErrorCode,
  HeaderStatusReasonCode,
  SearchStatusReasonCode,
  SubscribeStatusReasonCode,
  UnsubscribeStatusReasonCode,
} from '../errors.js';
import { DCI_PROTOCOL_VERSION } from './common.js';
import type { JsonObject, Pagination, RequestStatus, SubscriptionStatus, YesNo } from './common.js';
import type { AckResponse, AckStatus, ErrorBody } from './envelope.js';
import type {
  DisabledRequest,
  DisabledResponse,
  EnrolledRequest,
  EnrolledResponse,
  EnrollmentUpdatesRequest,
  EnrollmentUpdatesResponse,
  GetDisabilityInfoResponse,
  GetDisabilitySupportResponse,
  VerifyOutcome,
  VerifyRequest,
  VerifyResponse,
  VerifyResponseItem,
} from './extras.js';
import type { Action, CallbackHeaderOut, MsgHeader } from './header.js';
import type { IdTypeValueQuery, QueryType } from './query.js';
import type { SearchCriteria, SearchRequest } from './search.js';
import type {
  Frequency,
  NotifyEvent,
  NotifyEventRequest,
  SubscribeCriteria,
  SubscribeRequest,
  SubscribeResponse,
  SubscribeResponseItem,
  SubscriptionInfo,
  UnsubscribeRequest,
  UnsubscribeResponse,
} from './subscribe.js';
import type { TxnAttributeType, TxnReceipt, TxnStatusRequest, TxnType } from './txn.js';

/** A timestamp as an ISO string (kept as given) or a Date; absent = now. */
export type TimestampInput = string | Date;

/** The default `locale` (ISO 639-3). */
export const DEFAULT_LOCALE = 'eng';

const MAX_REASON_MESSAGE = 999;

/** ISO 8601 with `Z` (`Date#toISOString`); a string is returned unchanged. */
export function isoTimestamp(ts?: TimestampInput): string {
  if (ts === undefined) return new Date().toISOString();
  return typeof ts === 'string' ? ts : ts.toISOString();
}

/** A fresh id for `message_id`, `transaction_id`, `correlation_id`, `reference_id`. */
export function newId(): string {
  return randomUUID();
}

function clip(text: string): string {
  return text.length > MAX_REASON_MESSAGE ? `${text.slice(0, MAX_REASON_MESSAGE - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// ACK, error body, headers, envelope

export interface AckInput {
  correlationId: string;
  timestamp?: TimestampInput;
  /** `ACK` (a callback follows) or `NACK` (valid, no callback). */
  status?: Exclude<AckStatus, 'ERR'>;
}

/** The ACK body: `{ message: { ack_status, timestamp, correlation_id } }`. */
export function ack(input: AckInput): AckResponse {
  return {
    message: {
      ack_status: input.status ?? 'ACK',
      timestamp: isoTimestamp(input.timestamp),
      correlation_id: input.correlationId,
    },
  };
}

export interface ErrorBodyInput {
  code: ErrorCode;
  /** Safe to show to the peer (no internal detail); clipped to 999 characters. */
  message: string;
  correlationId?: string;
  timestamp?: TimestampInput;
}

/** The OpenDCI error body: ACK `ERR` with `error`, plus `errors[]` (architecture §6). */
export function errorBody(input: ErrorBodyInput): ErrorBody {
  const error = { code: input.code, message: clip(input.message) };
  return {
    message: {
      ack_status: 'ERR',
      timestamp: isoTimestamp(input.timestamp),
      correlation_id: input.correlationId ?? newId(),
      error,
    },
    errors: [{ ...error }],
  };
}

export interface RequestHeaderInput {
  action: Action;
  senderId: string;
  /** The number of items in the message (`search_request.length`, …). */
  totalCount: number;
  receiverId?: string;
  /** The full callback URL (async calls only). */
  senderUri?: string;
  messageId?: string;
  ts?: TimestampInput;
  meta?: JsonObject;
  encrypted?: boolean;
}

/** `MsgHeader_V1.0.0` of a request. */
export function requestHeader(input: RequestHeaderInput): MsgHeader {
  const header: MsgHeader = {
    version: DCI_PROTOCOL_VERSION,
    message_id: input.messageId ?? newId(),
    message_ts: isoTimestamp(input.ts),
    action: input.action,
    sender_id: input.senderId,
    total_count: input.totalCount,
    is_msg_encrypted: input.encrypted ?? false,
  };
  if (input.senderUri !== undefined) header.sender_uri = input.senderUri;
  if (input.receiverId !== undefined) header.receiver_id = input.receiverId;
  if (input.meta !== undefined) header.meta = input.meta;
  return header;
}

export interface CallbackHeaderInput {
  action: Action;
  /** This system's id (`DCI_SERVER_ID`). */
  senderId: string;
  /** The id of the system the message goes to (the original sender). */
  receiverId?: string;
  status: RequestStatus;
  /** Items in the original request. */
  totalCount: number;
  /** Items completed (success or functional error). */
  completedCount: number;
  messageId?: string;
  ts?: TimestampInput;
  statusReasonCode?: HeaderStatusReasonCode;
  statusReasonMessage?: string;
  meta?: JsonObject;
}

/**
 * The superset header of callbacks, notifications and sync responses: valid as
 * `MsgCallbackHeader` and as `MsgHeader` (brief §2.3).
 */
export function callbackHeader(input: CallbackHeaderInput): CallbackHeaderOut {
  const header: CallbackHeaderOut = {
    version: DCI_PROTOCOL_VERSION,
    message_id: input.messageId ?? newId(),
    message_ts: isoTimestamp(input.ts),
    action: input.action,
    status: input.status,
    total_count: input.totalCount,
    completed_count: input.completedCount,
    sender_id: input.senderId,
    is_msg_encrypted: false,
  };
  if (input.statusReasonCode !== undefined) header.status_reason_code = input.statusReasonCode;
  if (input.statusReasonMessage !== undefined) header.status_reason_message = clip(input.statusReasonMessage);
  if (input.receiverId !== undefined) header.receiver_id = input.receiverId;
  if (input.meta !== undefined) header.meta = input.meta;
  return header;
}

export interface EnvelopeOut<H, M> {
  signature?: string;
  header: H;
  message: M;
}

/** `{ signature?, header, message }` (sign `{header, message}` first, then pass the signature). */
export function envelope<H, M>(header: H, message: M, signature?: string): EnvelopeOut<H, M> {
  return signature === undefined ? { header, message } : { signature, header, message };
}

// ---------------------------------------------------------------------------------------------
// Search

export interface PaginationInput {
  pageSize: number;
  pageNumber: number;
  /** Total number of matching records. */
  totalCount: number;
}

function pagination(input: PaginationInput): Pagination {
  return { page_size: input.pageSize, page_number: input.pageNumber, total_count: input.totalCount };
}

interface ItemInput {
  referenceId: string;
  timestamp?: TimestampInput;
  locale?: string;
}

/** A successful search item: `records` is a list (SR, CRVS, IBR, FR) or one object (DR). */
export interface SearchItemSuccessInput<R> extends ItemInput {
  status?: 'succ';
  records: R;
  /** `data.reg_record_type` (required by the spec in DR and FR: always give it for search). */
  regRecordType?: string;
  regType?: string;
  version?: string;
  /** Always set for search answers (all three members, brief §12 item 9). */
  pagination: PaginationInput;
}

/** A rejected search item: no `data`. */
export interface SearchItemRejectionInput extends ItemInput {
  status: 'rjct';
  reasonCode: SearchStatusReasonCode;
  reasonMessage?: string;
  pagination?: PaginationInput;
}

/** A `search_response[]` item whose `data.reg_records` has type `R`. */
export interface SearchResponseItemOf<R> {
  reference_id: string;
  timestamp: string;
  status: RequestStatus;
  status_reason_code?: SearchStatusReasonCode;
  status_reason_message?: string;
  data?: { version: string; reg_type?: string; reg_record_type?: string; reg_records: R };
  pagination?: Pagination;
  locale: string;
}

export interface SearchResponseOf<R> {
  transaction_id: string;
  correlation_id: string;
  search_response: SearchResponseItemOf<R>[];
}

/** A `search_response[]` item: `succ` with records and pagination, or `rjct` with a reason code. */
export function searchResponseItem(input: SearchItemRejectionInput): SearchResponseItemOf<never>;
export function searchResponseItem<R>(input: SearchItemSuccessInput<R>): SearchResponseItemOf<R>;
export function searchResponseItem<R>(
  input: SearchItemSuccessInput<R> | SearchItemRejectionInput,
): SearchResponseItemOf<R> {
  const base = { reference_id: input.referenceId, timestamp: isoTimestamp(input.timestamp) };
  const locale = input.locale ?? DEFAULT_LOCALE;
  if (input.status === 'rjct') {
    return {
      ...base,
      status: 'rjct',
      status_reason_code: input.reasonCode,
      ...(input.reasonMessage !== undefined ? { status_reason_message: clip(input.reasonMessage) } : {}),
      ...(input.pagination ? { pagination: pagination(input.pagination) } : {}),
      locale,
    };
  }
  const data = {
    version: input.version ?? DCI_PROTOCOL_VERSION,
    ...(input.regType !== undefined ? { reg_type: input.regType } : {}),
    ...(input.regRecordType !== undefined ? { reg_record_type: input.regRecordType } : {}),
    reg_records: input.records,
  };
  return { ...base, status: 'succ', data, pagination: pagination(input.pagination), locale };
}

export interface SearchResponseInput<R> {
  transactionId: string;
  /** The correlation id returned in the ACK (async) or generated for the sync answer. */
  correlationId: string;
  items: SearchResponseItemOf<R>[];
}

/** `SearchResponse`: the message of on-search and of the sync/search answer. */
export function searchResponseMessage<R>(input: SearchResponseInput<R>): SearchResponseOf<R> {
  return { transaction_id: input.transactionId, correlation_id: input.correlationId, search_response: input.items };
}

export interface SearchRequestItemInput {
  referenceId?: string;
  timestamp?: TimestampInput;
  criteria: SearchCriteria;
  locale?: string;
}

/** `SearchRequest` (client side). */
export function searchRequestMessage(input: {
  transactionId?: string;
  items: SearchRequestItemInput[];
}): SearchRequest {
  return {
    transaction_id: input.transactionId ?? newId(),
    search_request: input.items.map((item) => ({
      reference_id: item.referenceId ?? newId(),
      timestamp: isoTimestamp(item.timestamp),
      search_criteria: item.criteria,
      locale: item.locale ?? DEFAULT_LOCALE,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Subscribe, unsubscribe, notify

export interface SubscriptionInput {
  code: string;
  status?: SubscriptionStatus;
  timestamp?: TimestampInput;
  regType?: string;
  regEventType?: string;
  frequency?: Frequency;
  filterType?: QueryType;
  filter?: SubscriptionInfo['filter'];
  notifyRecordType?: string;
  locale?: string;
}

/** `SubscriptionInfo` ([C] names: `code`, `status`, `timestamp` …). */
export function subscriptionInfo(input: SubscriptionInput): SubscriptionInfo {
  const info: SubscriptionInfo = {
    version: DCI_PROTOCOL_VERSION,
    code: input.code,
    status: input.status ?? 'subscribe',
    timestamp: isoTimestamp(input.timestamp),
  };
  if (input.regType !== undefined) info.reg_type = input.regType;
  if (input.regEventType !== undefined) info.reg_event_type = input.regEventType;
  if (input.frequency !== undefined) info.frequency = input.frequency;
  if (input.filterType !== undefined) info.filter_type = input.filterType;
  if (input.filter !== undefined) info.filter = input.filter;
  if (input.notifyRecordType !== undefined) info.notify_record_type = input.notifyRecordType;
  info.locale = input.locale ?? DEFAULT_LOCALE;
  return info;
}

export type SubscribeItemInput =
  | (ItemInput & { status?: 'succ'; subscriptions: SubscriptionInput[] })
  | (ItemInput & { status: 'rjct'; reasonCode: SubscribeStatusReasonCode; reasonMessage?: string });

/** A `subscribe_response[]` item. */
export function subscribeResponseItem(input: SubscribeItemInput): SubscribeResponseItem {
  const base = { reference_id: input.referenceId, timestamp: isoTimestamp(input.timestamp) };
  const locale = input.locale ?? DEFAULT_LOCALE;
  if (input.status === 'rjct') {
    const item: SubscribeResponseItem = { ...base, status: 'rjct', status_reason_code: input.reasonCode };
    if (input.reasonMessage !== undefined) item.status_reason_message = clip(input.reasonMessage);
    item.locale = locale;
    return item;
  }
  return { ...base, status: 'succ', subscriptions: input.subscriptions.map(subscriptionInfo), locale };
}

/** `SubscribeResponse`: the message of on-subscribe. */
export function subscribeResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: SubscribeItemInput[];
}): SubscribeResponse {
  return {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    subscribe_response: input.items.map(subscribeResponseItem),
  };
}

export interface SubscribeRequestItemInput {
  referenceId?: string;
  timestamp?: TimestampInput;
  criteria: SubscribeCriteria;
  locale?: string;
}

/** `SubscribeRequest` (client side). */
export function subscribeRequestMessage(input: {
  transactionId?: string;
  items: SubscribeRequestItemInput[];
}): SubscribeRequest {
  return {
    transaction_id: input.transactionId ?? newId(),
    subscribe_request: input.items.map((item) => ({
      reference_id: item.referenceId ?? newId(),
      timestamp: isoTimestamp(item.timestamp),
      subscribe_criteria: item.criteria,
      locale: item.locale ?? DEFAULT_LOCALE,
    })),
  };
}

export interface UnsubscribeResponseInput {
  transactionId: string;
  correlationId: string;
  status: RequestStatus;
  reasonCode?: UnsubscribeStatusReasonCode;
  reasonMessage?: string;
  /** The outcome per code (`unsubscribe` once done). */
  subscriptions: { code: string; status: SubscriptionStatus }[];
  timestamp?: TimestampInput;
}

/** `UnSubscribeResponse`: the (flat) message of on-unsubscribe. */
export function unsubscribeResponseMessage(input: UnsubscribeResponseInput): UnsubscribeResponse {
  const message: UnsubscribeResponse = {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    timestamp: isoTimestamp(input.timestamp),
    status: input.status,
  };
  if (input.reasonCode !== undefined) message.status_reason_code = input.reasonCode;
  if (input.reasonMessage !== undefined) message.status_reason_message = clip(input.reasonMessage);
  message.subscription_status = input.subscriptions.map((s) => ({ code: s.code, status: s.status }));
  return message;
}

/** `UnSubscribeRequest` (client side; [C] spelling). */
export function unsubscribeRequestMessage(input: {
  transactionId?: string;
  codes: string[];
  timestamp?: TimestampInput;
}): UnsubscribeRequest {
  return {
    transaction_id: input.transactionId ?? newId(),
    timestamp: isoTimestamp(input.timestamp),
    subscription_codes: [...input.codes],
  };
}

export interface NotifyEventInput extends ItemInput {
  /** The canonical event name (contract §8), e.g. `REGISTER`, `LiveBirth`, `enrollement`. */
  regEventType: string;
  regRecordType: string;
  /** One record: notify carries an object, never a list. */
  record: JsonObject;
  regType?: string;
}

/** One `notify_event[]` item. */
export function notifyEvent(input: NotifyEventInput): NotifyEvent {
  return {
    reference_id: input.referenceId,
    timestamp: isoTimestamp(input.timestamp),
    data: {
      version: DCI_PROTOCOL_VERSION,
      ...(input.regType !== undefined ? { reg_type: input.regType } : {}),
      reg_event_type: input.regEventType,
      reg_record_type: input.regRecordType,
      reg_records: input.record,
    },
    locale: input.locale ?? DEFAULT_LOCALE,
  };
}

/**
 * `NotifyEventRequest`. There is no subscription code in the message: put it in the header's
 * `meta` (`{ subscription_code }`), and use the subscribe `transaction_id`/`reference_id` here.
 */
export function notifyMessage(input: { transactionId: string; events: NotifyEventInput[] }): NotifyEventRequest {
  return { transaction_id: input.transactionId, notify_event: input.events.map(notifyEvent) };
}

// ---------------------------------------------------------------------------------------------
// Txn status

export type TxnStatusInput =
  | { txnType: 'search'; txnStatus: SearchResponseOf<JsonObject[]> | SearchResponseOf<JsonObject> }
  | { txnType: 'subscribe'; txnStatus: SubscribeResponse }
  | { txnType: 'unsubscribe'; txnStatus: UnsubscribeResponse }
  | { txnType: 'receipt'; txnStatus: TxnReceipt };

export type TxnStatusResponseOut = {
  transaction_id: string;
  correlation_id: string;
  txnstatus_response:
    | { txn_type: 'search'; txn_status: SearchResponseOf<JsonObject[]> | SearchResponseOf<JsonObject> }
    | { txn_type: 'subscribe'; txn_status: SubscribeResponse }
    | { txn_type: 'unsubscribe'; txn_status: UnsubscribeResponse }
    | { txn_type: 'receipt'; txn_status: TxnReceipt };
};

/**
 * `TxnStatusResponse`: `transaction_id` is the status request's, `correlation_id` the one of its
 * ACK; `txnStatus` is the queried transaction's own response object.
 */
export function txnStatusResponseMessage(
  input: { transactionId: string; correlationId: string } & TxnStatusInput,
): TxnStatusResponseOut {
  return {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    txnstatus_response: {
      txn_type: input.txnType,
      txn_status: input.txnStatus,
    } as TxnStatusResponseOut['txnstatus_response'],
  };
}

export type TxnStatusRequestInput = {
  transactionId?: string;
  referenceId?: string;
  txnType: TxnType;
  locale?: string;
} & (
  | { attributeType: Extract<TxnAttributeType, 'transaction_id' | 'correlation_id'>; attributeValue: string }
  | {
      attributeType: Extract<TxnAttributeType, 'reference_id_list' | 'subscription_code_list'>;
      attributeValue: string[];
    }
);

/** `TxnStatusRequest` (client side). */
export function txnStatusRequestMessage(input: TxnStatusRequestInput): TxnStatusRequest {
  return {
    transaction_id: input.transactionId ?? newId(),
    txnstatus_request: {
      reference_id: input.referenceId ?? newId(),
      txn_type: input.txnType,
      attribute_type: input.attributeType,
      attribute_value: input.attributeValue,
      locale: input.locale ?? DEFAULT_LOCALE,
    } as TxnStatusRequest['txnstatus_request'],
  };
}

// ---------------------------------------------------------------------------------------------
// Verify (OpenDCI extension)

/** `verified`: `yes` when every claim is `yes`, `no` when any is `no`, else `unknown`. */
export function verifyOutcome(claims: Readonly<Record<string, VerifyOutcome>>): VerifyOutcome {
  const values = Object.values(claims);
  if (values.includes('no')) return 'no';
  if (values.length > 0 && values.every((v) => v === 'yes')) return 'yes';
  return 'unknown';
}

export type VerifyItemInput =
  | (ItemInput & { status?: 'succ'; claims: Record<string, VerifyOutcome> })
  | (ItemInput & {
      status: 'rjct';
      reasonCode: SearchStatusReasonCode;
      reasonMessage?: string;
      claims?: Record<string, VerifyOutcome>;
    });

/** A `verify_response[]` item; `verified` is computed from the claims. */
export function verifyResponseItem(input: VerifyItemInput): VerifyResponseItem {
  const base = { reference_id: input.referenceId, timestamp: isoTimestamp(input.timestamp) };
  const locale = input.locale ?? DEFAULT_LOCALE;
  if (input.status === 'rjct') {
    const item: VerifyResponseItem = {
      ...base,
      status: 'rjct',
      status_reason_code: input.reasonCode,
      verified: 'unknown',
      claims: {},
      locale,
    };
    if (input.reasonMessage !== undefined) item.status_reason_message = clip(input.reasonMessage);
    if (input.claims) item.claims = { ...input.claims };
    return item;
  }
  return { ...base, status: 'succ', verified: verifyOutcome(input.claims), claims: { ...input.claims }, locale };
}

/** `VerifyResponse` (action `on-verify`). */
export function verifyResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: VerifyItemInput[];
}): VerifyResponse {
  return {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    verify_response: input.items.map(verifyResponseItem),
  };
}

/** `VerifyRequest` (client side). */
export function verifyRequestMessage(input: {
  transactionId?: string;
  items: {
    referenceId?: string;
    timestamp?: TimestampInput;
    query: IdTypeValueQuery;
    claims: JsonObject;
    locale?: string;
  }[];
}): VerifyRequest {
  return {
    transaction_id: input.transactionId ?? newId(),
    verify_request: input.items.map((item) => ({
      reference_id: item.referenceId ?? newId(),
      timestamp: isoTimestamp(item.timestamp),
      verify_criteria: { query_type: 'idtype-value', query: item.query, claims: item.claims },
      locale: item.locale ?? DEFAULT_LOCALE,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// IBR and DR extras

interface StatusItemInput {
  /** The requests carry no reference id: echo the transaction id (brief §3.4). */
  referenceId: string;
  timestamp?: TimestampInput;
  status?: RequestStatus;
  reasonMessage?: string;
}

function statusItem(input: StatusItemInput) {
  const item: { reference_id: string; timestamp: string; status: RequestStatus; status_reason_message?: string } = {
    reference_id: input.referenceId,
    timestamp: isoTimestamp(input.timestamp),
    status: input.status ?? 'succ',
  };
  if (input.reasonMessage !== undefined) item.status_reason_message = clip(input.reasonMessage);
  return item;
}

/** IBR `EnrolledResponse` (`sync/enrolled`). */
export function enrolledResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: (StatusItemInput & { enrolled: YesNo })[];
}): EnrolledResponse {
  return {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    enrolled_response: input.items.map((item) => ({ ...statusItem(item), enrolled_status: item.enrolled })),
  };
}

/** IBR `EnrollmentUpdatesResponse` (`sync/enrollment/updates`). */
export function enrollmentUpdatesResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: StatusItemInput[];
}): EnrollmentUpdatesResponse {
  return {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    enrolled_response: input.items.map(statusItem),
  };
}

/** DR `DisabledResponse` (`sync/disabled`). */
export function disabledResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: (StatusItemInput & { disabled: YesNo })[];
}): DisabledResponse {
  return {
    transaction_id: input.transactionId,
    correlation_id: input.correlationId,
    disabled_response: input.items.map((item) => ({ ...statusItem(item), disabled_status: item.disabled })),
  };
}

type DrItemInput<R> = Omit<SearchItemSuccessInput<R>, 'regType' | 'regRecordType'> | SearchItemRejectionInput;

function drItem<R>(input: DrItemInput<R>): SearchResponseItemOf<R> {
  return input.status === 'rjct' ? searchResponseItem(input) : searchResponseItem<R>(input);
}

/** DR `GetDisabilitySupportResponse`: one list of support records per item (list of lists). */
export function disabilitySupportResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: DrItemInput<JsonObject[][]>[];
}): GetDisabilitySupportResponse {
  return searchResponseMessage({ ...input, items: input.items.map((i) => drItem(i)) });
}

/** DR `GetDisabilityInfoResponse` (`sync/get-disability-details`, [A] `get-disability-info`). */
export function disabilityDetailsResponseMessage(input: {
  transactionId: string;
  correlationId: string;
  items: DrItemInput<JsonObject[]>[];
}): GetDisabilityInfoResponse {
  return searchResponseMessage({ ...input, items: input.items.map((i) => drItem(i)) });
}

/** IBR `EnrolledRequest` (client side). */
export function enrolledRequestMessage(input: {
  transactionId?: string;
  criteria: EnrolledRequest['enrolled_criteria'];
}): EnrolledRequest {
  return { transaction_id: input.transactionId ?? newId(), enrolled_criteria: input.criteria };
}

/** IBR `EnrollmentUpdatesRequest` (SP-MIS side). */
export function enrollmentUpdatesRequestMessage(input: {
  transactionId?: string;
  beneficiaries: JsonObject[];
}): EnrollmentUpdatesRequest {
  return { transaction_id: input.transactionId ?? newId(), enrolled_updates: { beneficiaries: input.beneficiaries } };
}

/** DR `DisabledRequest` / `GetDisabilitySupportRequest` (client side). */
export function disabledRequestMessage(input: {
  transactionId?: string;
  criteria: DisabledRequest['disabled_criteria'];
}): DisabledRequest {
  return { transaction_id: input.transactionId ?? newId(), disabled_criteria: input.criteria };
}
