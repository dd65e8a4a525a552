/**
 * Transaction status (`registry/txn/status`, `registry/sync/txn/status`, `registry/txn/on-status`),
 * `dci-brief.md` §5.
 */
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { CorrelationId, JsonObject, Locale, ReferenceId, StringEnum, TransactionId } from './common.js';
import { discriminate } from './query.js';
import { AnySearchResponse } from './search.js';
import { SubscribeResponse, SubscriptionCode, UnsubscribeResponse } from './subscribe.js';

/**
 * `txn_type` values of [C] (SR/IBR: `search|subscribe|receipt`; CRVS/FR:
 * `search|subscribe|unsubscribe`). Every value is accepted in every domain; the engine answers
 * the ones its domain supports.
 */
export const TXN_TYPES = ['search', 'subscribe', 'unsubscribe', 'receipt'] as const;
export type TxnType = (typeof TXN_TYPES)[number];

/** [A]/[B] spellings of `txn_type`, accepted on input: `subscibe` (SR/IBR) and `on-*` (CRVS). */
export const TXN_TYPE_VARIANTS = ['subscibe', 'on-search', 'on-subscribe', 'on-unsubscribe'] as const;
const TXN_TYPE_ALIASES: Readonly<Record<(typeof TXN_TYPE_VARIANTS)[number], TxnType>> = {
  subscibe: 'subscribe',
  'on-search': 'search',
  'on-subscribe': 'subscribe',
  'on-unsubscribe': 'unsubscribe',
};

/** A `txn_type` as received: a [C] value or an [A]/[B] variant. */
export const TxnTypeIn = StringEnum([...TXN_TYPES, ...TXN_TYPE_VARIANTS] as const);
export type TxnTypeIn = Static<typeof TxnTypeIn>;

/** The [C] name of a received `txn_type`. */
export function normalizeTxnType(value: TxnTypeIn): TxnType {
  return (TXN_TYPES as readonly string[]).includes(value)
    ? (value as TxnType)
    : TXN_TYPE_ALIASES[value as (typeof TXN_TYPE_VARIANTS)[number]];
}

/** `attribute_type`: what `attribute_value` names. */
export const TXN_ATTRIBUTE_TYPES = [
  'transaction_id',
  'reference_id_list',
  'correlation_id',
  'subscription_code_list',
] as const;
export type TxnAttributeType = (typeof TXN_ATTRIBUTE_TYPES)[number];

const attributeValues = {
  transaction_id: TransactionId,
  correlation_id: CorrelationId,
  reference_id_list: Type.Array(ReferenceId),
  subscription_code_list: Type.Array(SubscriptionCode),
} satisfies Record<TxnAttributeType, TSchema>;

const txnRequestBase = {
  reference_id: ReferenceId,
  txn_type: TxnTypeIn,
  locale: Type.Optional(Locale),
};

// Only for the static type: the union the runtime schema enforces with if/then.
const _txnRequestUnion = Type.Union([
  Type.Object({
    ...txnRequestBase,
    attribute_type: StringEnum(['transaction_id', 'correlation_id'] as const),
    attribute_value: Type.String(),
  }),
  Type.Object({
    ...txnRequestBase,
    attribute_type: StringEnum(['reference_id_list', 'subscription_code_list'] as const),
    attribute_value: Type.Array(Type.String()),
  }),
]);

/**
 * `txnstatus_request`: `attribute_value` is a string for `transaction_id`/`correlation_id` and a
 * list for `reference_id_list`/`subscription_code_list` (the [C] `anyOf` does not tie them).
 */
export type TxnStatusRequestBody = Static<typeof _txnRequestUnion>;
export const TxnStatusRequestBody = Type.Unsafe<TxnStatusRequestBody>(
  Type.Object(
    {
      ...txnRequestBase,
      attribute_type: StringEnum(TXN_ATTRIBUTE_TYPES),
      attribute_value: Type.Unsafe({ type: ['string', 'array'] }),
    },
    discriminate('attribute_type', 'attribute_value', attributeValues),
  ),
);

/** `TxnStatusRequest`. */
export const TxnStatusRequest = Type.Object({
  transaction_id: TransactionId,
  txnstatus_request: TxnStatusRequestBody,
});
export type TxnStatusRequest = Static<typeof TxnStatusRequest>;

/** The SR/IBR receipt variant of `txn_status`. */
export const TxnReceipt = Type.Object({
  transaction_id: TransactionId,
  receipt_information: Type.Object({ beneficiaries: Type.Optional(Type.Array(JsonObject)) }),
});
export type TxnReceipt = Static<typeof TxnReceipt>;

const txnStatusShapes: Record<TxnTypeIn, TSchema> = {
  search: AnySearchResponse,
  subscribe: SubscribeResponse,
  unsubscribe: UnsubscribeResponse,
  receipt: TxnReceipt,
  subscibe: SubscribeResponse,
  'on-search': AnySearchResponse,
  'on-subscribe': SubscribeResponse,
  'on-unsubscribe': UnsubscribeResponse,
};

// Only for the static type.
const _txnResponseUnion = Type.Union([
  Type.Object({ txn_type: StringEnum(['search', 'on-search'] as const), txn_status: AnySearchResponse }),
  Type.Object({
    txn_type: StringEnum(['subscribe', 'subscibe', 'on-subscribe'] as const),
    txn_status: SubscribeResponse,
  }),
  Type.Object({ txn_type: StringEnum(['unsubscribe', 'on-unsubscribe'] as const), txn_status: UnsubscribeResponse }),
  Type.Object({ txn_type: Type.Literal('receipt'), txn_status: TxnReceipt }),
]);

/** `txnstatus_response`: `txn_status` is the original response object of the `txn_type`. */
export type TxnStatusResponseBody = Static<typeof _txnResponseUnion>;
export const TxnStatusResponseBody = Type.Unsafe<TxnStatusResponseBody>(
  Type.Object({ txn_type: TxnTypeIn, txn_status: JsonObject }, discriminate('txn_type', 'txn_status', txnStatusShapes)),
);

/** `TxnStatusResponse` (message of `registry/txn/on-status` and of the sync response). */
export const TxnStatusResponse = Type.Object({
  transaction_id: TransactionId,
  correlation_id: CorrelationId,
  txnstatus_response: TxnStatusResponseBody,
});
export type TxnStatusResponse = Static<typeof TxnStatusResponse>;
