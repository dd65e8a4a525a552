/**
 * The code catalog: every code the DCI specification defines, and the one error class.
 *
 * `err.*` codes are envelope-level (the spec's `Error.code` enum, carried in an ACK/ERR body);
 * they are thrown as `DciError`. `rjct.*` codes are item-level or callback-header outcomes
 * (`status_reason_code`): results, never exceptions. The lists below are exactly the spec's
 * enums (SPDCI v1.0.0, identical in the social, crvs, ibr, dr and fr APIs); a test checks them
 * against the spec files.
 */

/** Named constants for the spec's `Error.code` enum. Never inline the strings. */
export const ErrorCode = {
  RequestBad: 'err.request.bad',
  RequestUnauthorized: 'err.request.unauthorized',
  RequestForbidden: 'err.request.forbidden',
  RequestNotFound: 'err.request.not_found',
  RequestTimeout: 'err.request.timeout',
  VersionNotSupported: 'err.version.not_supported',
  RequestTooManyRequests: 'err.request.too_many_requests',
  SenderIdInvalid: 'err.sender_id.invalid',
  SenderUriInvalid: 'err.sender_uri.invalid',
  ReceiverIdInvalid: 'err.receiver_id.invalid',
  SignatureMissing: 'err.signature.missing',
  SignatureInvalid: 'err.signature.invalid',
  EncryptionInvalid: 'err.encryption.invalid',
  ServiceUnavailable: 'err.service.unavailable',
} as const;

/** One of the spec's `Error.code` values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorCodeInfo {
  /** The HTTP status answered by default (contract.md §4); a `DciError` may override it. */
  readonly status: number;
  readonly description: string;
}

/** Every `Error.code`, its default HTTP status (contract.md §4) and what it means. */
export const ERROR_CATALOG: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  'err.request.bad': {
    status: 400,
    description:
      'Invalid JSON, schema violation, wrong action, bad paging, message_ts outside the skew window; ' +
      'also replay (409), body too large (413) and wrong content type (415) with their own status',
  },
  'err.request.unauthorized': { status: 401, description: 'No bearer token, or a bad or expired one' },
  'err.request.forbidden': {
    status: 403,
    description: 'Sender inactive, or the operation or domain is not allowed for the sender',
  },
  'err.request.not_found': { status: 404, description: 'Unknown path' },
  'err.request.timeout': { status: 408, description: 'The request timed out' },
  'err.version.not_supported': { status: 400, description: 'Unsupported header.version' },
  'err.request.too_many_requests': { status: 429, description: 'Rate limit reached (with Retry-After)' },
  'err.sender_id.invalid': { status: 403, description: "header.sender_id is not the token's client" },
  'err.sender_uri.invalid': { status: 400, description: 'sender_uri present but invalid or not allowed' },
  'err.receiver_id.invalid': { status: 400, description: 'receiver_id not accepted by this server' },
  'err.signature.missing': { status: 401, description: 'No signature while the sender policy requires one' },
  'err.signature.invalid': {
    status: 401,
    description: 'Signature unparseable, expired, from an unknown key, or not verifying',
  },
  'err.encryption.invalid': { status: 400, description: 'Encrypted message that cannot be decrypted' },
  'err.service.unavailable': {
    status: 503,
    description: 'Database down or internal error (500); never carries internal detail',
  },
};

/** The spec's `Error.code` enum, in the spec's order. */
export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

const ERROR_CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODE_SET.has(value);
}

/** Default HTTP status of an error code. */
export function errorStatus(code: ErrorCode): number {
  return ERROR_CATALOG[code].status;
}

// ---------------------------------------------------------------------------------------------
// Item-level and callback-header reason codes (exactly the spec's enums)

/** `SearchStatusReasonCode`: `search_response[].status_reason_code` (also DR get-disability-*). */
export const SEARCH_STATUS_REASON_CODES = [
  'rjct.reference_id.invalid',
  'rjct.reference_id.duplicate',
  'rjct.timestamp.invalid',
  'rjct.search_criteria.invalid',
  'rjct.filter.invalid',
  'rjct.sort.invalid',
  'rjct.pagination.invalid',
  'rjct.search.too_many_records_found',
] as const;
export type SearchStatusReasonCode = (typeof SEARCH_STATUS_REASON_CODES)[number];

/** `SubscribeStatusReasonCode`: `subscribe_response[].status_reason_code`. */
export const SUBSCRIBE_STATUS_REASON_CODES = [
  'rjct.reference_id.invalid',
  'rjct.reference_id.duplicate',
  'rjct.timestamp.invalid',
  'rjct.notify_types.invalid',
  'rjct.notify_details.invalid',
  'rjct.person_id.invalid',
  'rjct.event.already_subscribed',
] as const;
export type SubscribeStatusReasonCode = (typeof SUBSCRIBE_STATUS_REASON_CODES)[number];

/** `UnSubscribeStatusReasonCode`: the on-unsubscribe `status_reason_code`. */
export const UNSUBSCRIBE_STATUS_REASON_CODES = [
  'rjct.reference_id.invalid',
  'rjct.reference_id.duplicate',
  'rjct.timestamp.invalid',
  'rjct.subscription_code.invalid',
  'rjct.requester.invalid',
  'rjct.event.already_unsubscribed',
] as const;
export type UnsubscribeStatusReasonCode = (typeof UNSUBSCRIBE_STATUS_REASON_CODES)[number];

/** `MsgHeaderStatusReasonCode`: callback `header.status_reason_code` (inlined in CRVS). */
export const HEADER_STATUS_REASON_CODES = [
  'rjct.version.invalid',
  'rjct.message_id.duplicate',
  'rjct.message_ts.invalid',
  'rjct.action.invalid',
  'rjct.action.not_supported',
  'rjct.total_count.invalid',
  'rjct.total_count.limit_exceeded',
  'rjct.errors.too_many',
] as const;
export type HeaderStatusReasonCode = (typeof HEADER_STATUS_REASON_CODES)[number];

/** Any `rjct.*` code of the spec. */
export type ReasonCode =
  SearchStatusReasonCode | SubscribeStatusReasonCode | UnsubscribeStatusReasonCode | HeaderStatusReasonCode;

/** Every distinct `rjct.*` code of the spec. */
export const REASON_CODES: readonly ReasonCode[] = [
  ...new Set<ReasonCode>([
    ...SEARCH_STATUS_REASON_CODES,
    ...SUBSCRIBE_STATUS_REASON_CODES,
    ...UNSUBSCRIBE_STATUS_REASON_CODES,
    ...HEADER_STATUS_REASON_CODES,
  ]),
];

function member<T extends string>(list: readonly T[]): (value: unknown) => value is T {
  const set: ReadonlySet<string> = new Set(list);
  return (value: unknown): value is T => typeof value === 'string' && set.has(value);
}

export const isSearchStatusReasonCode = member(SEARCH_STATUS_REASON_CODES);
export const isSubscribeStatusReasonCode = member(SUBSCRIBE_STATUS_REASON_CODES);
export const isUnsubscribeStatusReasonCode = member(UNSUBSCRIBE_STATUS_REASON_CODES);
export const isHeaderStatusReasonCode = member(HEADER_STATUS_REASON_CODES);
export const isReasonCode = member(REASON_CODES);

// ---------------------------------------------------------------------------------------------
// The error class

export interface DciErrorOptions {
  /** HTTP status; defaults to the catalog's (e.g. 409 for a replay, 413, 415 with `err.request.bad`). */
  status?: number;
  cause?: unknown;
  /** A short machine-readable detail for logs and metrics (e.g. `expired`); not sent to peers by default. */
  detail?: string;
}

/**
 * An envelope-level failure. `message` is safe to show to the peer for statuses below 500;
 * `detail` is for logs.
 */
export class DciError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: DciErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DciError';
    this.code = code;
    this.status = options.status ?? ERROR_CATALOG[code].status;
    if (options.detail !== undefined) this.detail = options.detail;
  }

  /** True when the message may be shown to the caller (4xx); 5xx messages are replaced. */
  get expose(): boolean {
    return this.status < 500;
  }
}

/**
 * True for a `DciError`, also one created by another copy of this module (e.g. the built package
 * next to the sources in tests), recognised by its name, code and status.
 */
export function isDciError(value: unknown): value is DciError {
  if (value instanceof DciError) return true;
  if (!(value instanceof Error) || value.name !== 'DciError') return false;
  const candidate = value as Error & { code?: unknown; status?: unknown };
  return isErrorCode(candidate.code) && typeof candidate.status === 'number';
}
