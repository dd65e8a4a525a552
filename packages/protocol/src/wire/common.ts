/**
 * Building blocks shared by every DCI message schema (SPDCI v1.0.0, `../shared/spec/latest`).
 *
 * The schemas are the project's own (TypeBox: JSON Schema at runtime, TS types via `Static`).
 * Objects never set `additionalProperties: false`: peers may add fields, and the spec's own
 * schemas never forbid them. Where the spec is looser than the types (`number` for integers,
 * `oneOf` that rejects integers) the schemas follow the brief (`dci-brief.md` §10, §12).
 */
import Type from 'typebox';
import type { Static, TUnsafe } from 'typebox';
import {
  ERROR_CODES,
  HEADER_STATUS_REASON_CODES,
  SEARCH_STATUS_REASON_CODES,
  SUBSCRIBE_STATUS_REASON_CODES,
  UNSUBSCRIBE_STATUS_REASON_CODES,
} from '../errors.js';

/** The five registry domains and their path prefixes (`/social/registry/…`, …). */
export const DCI_DOMAINS = ['social', 'crvs', 'ibr', 'dr', 'fr'] as const;
export type DciDomain = (typeof DCI_DOMAINS)[number];

export function isDciDomain(value: unknown): value is DciDomain {
  return typeof value === 'string' && (DCI_DOMAINS as readonly string[]).includes(value);
}

/** The messaging protocol version this project speaks (`header.version`, `data.version`). */
export const DCI_PROTOCOL_VERSION = '1.0.0';

/** A JSON object with any members (records, consent, `meta`, …). */
export type JsonObject = Record<string, unknown>;

/** `{ type: 'object' }`, typed as `Record<string, unknown>`. */
export const JsonObject: TUnsafe<JsonObject> = Type.Unsafe<JsonObject>({ type: 'object' });

/** A string enum (`{ enum: [...] }` plus `type: string`), typed as the union of its values. */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** ISO 8601 date-time **with a time zone** (RFC 3339, `format: date-time`). */
export const DateTime = Type.String({ format: 'date-time' });

/** `locale`: an ISO 639-3 lower-case language code such as `eng` (`en` is invalid). */
export const Locale = Type.String({ pattern: '^[a-z]{3}$' });

/** Ids set by a sender: at most 99 characters in the spec (`transaction_id`, `correlation_id`). */
export const TransactionId = Type.String({ minLength: 1, maxLength: 99 });
export const CorrelationId = Type.String({ minLength: 1, maxLength: 99 });
/** `reference_id`: the spec sets no maximum length. */
export const ReferenceId = Type.String({ minLength: 1 });
/** `status_reason_message`. */
export const ReasonMessage = Type.String({ maxLength: 999 });

/** `RequestStatus`: received, pending, success, rejected. */
export const REQUEST_STATUSES = ['rcvd', 'pdng', 'succ', 'rjct'] as const;
export const RequestStatus = StringEnum(REQUEST_STATUSES);
export type RequestStatus = Static<typeof RequestStatus>;

/** `SubscriptionStatus`. */
export const SUBSCRIPTION_STATUSES = ['subscribe', 'unsubscribe'] as const;
export const SubscriptionStatus = StringEnum(SUBSCRIPTION_STATUSES);
export type SubscriptionStatus = Static<typeof SubscriptionStatus>;

/** `enrolled_status`, `disabled_status`. */
export const YesNo = StringEnum(['yes', 'no'] as const);
export type YesNo = Static<typeof YesNo>;

export const SearchStatusReasonCodeSchema = StringEnum(SEARCH_STATUS_REASON_CODES);
export const SubscribeStatusReasonCodeSchema = StringEnum(SUBSCRIBE_STATUS_REASON_CODES);
export const UnsubscribeStatusReasonCodeSchema = StringEnum(UNSUBSCRIBE_STATUS_REASON_CODES);
export const HeaderStatusReasonCodeSchema = StringEnum(HEADER_STATUS_REASON_CODES);
export const ErrorCodeSchema = StringEnum(ERROR_CODES);

/**
 * `PaginationRequest`. The spec types both members `number`/int32 without a minimum; contract §4
 * rejects values below 1, so both are integers ≥ 1 here.
 */
export const PaginationRequest = Type.Object({
  page_size: Type.Integer({ minimum: 1 }),
  page_number: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
});
export type PaginationRequest = Static<typeof PaginationRequest>;

/** `Pagination` of a response: all three members are required. */
export const Pagination = Type.Object({
  page_size: Type.Integer({ minimum: 0 }),
  page_number: Type.Integer({ minimum: 1 }),
  total_count: Type.Integer({ minimum: 0 }),
});
export type Pagination = Static<typeof Pagination>;

/**
 * `sort[]`. Neither member is required by the spec. `sort_order` is any string here: a bad value
 * is an item-level outcome (`rjct.sort.invalid`), not an envelope error (contract §4).
 */
export const SortItem = Type.Object({
  attribute_name: Type.Optional(Type.String()),
  sort_order: Type.Optional(Type.String()),
});
export const Sort = Type.Array(SortItem);
export type Sort = Static<typeof Sort>;

/** The sort orders the spec defines. */
export const SORT_ORDERS = ['asc', 'desc'] as const;

/** `EncryptedMessage` (`message` when `header.is_msg_encrypted` is true). */
export const EncryptedMessage = Type.Object({
  header: Type.Object({ alg: Type.String(), enc: Type.String(), kid: Type.String() }),
  ciphertext: Type.String(),
  encrypted_key: Type.String(),
  tag: Type.String(),
  iv: Type.String(),
});
export type EncryptedMessage = Static<typeof EncryptedMessage>;

/**
 * Schema options requiring, for each group, at least one of its property names (spelling variants
 * of one field): `{ allOf: [{ anyOf: [{ required: [a] }, { required: [b] }] }, …] }`.
 */
export function requireOneOf(groups: readonly (readonly string[])[]): { allOf: object[] } {
  return { allOf: groups.map((names) => ({ anyOf: names.map((name) => ({ required: [name] })) })) };
}
