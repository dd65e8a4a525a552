/**
 * Message headers (`dci-brief.md` §2.2–2.4).
 *
 * `MsgHeader` heads requests (and, in the spec, on-subscribe/on-unsubscribe callbacks);
 * `MsgCallbackHeader` heads on-search, notify, txn-on-status and sync responses. What this project
 * sends on callbacks and sync responses is the superset of both (`CallbackHeaderOut`), which is
 * valid under either schema.
 */
import Type from 'typebox';
import type { Static } from 'typebox';
import {
  DateTime,
  HeaderStatusReasonCodeSchema,
  JsonObject,
  ReasonMessage,
  RequestStatus,
  StringEnum,
} from './common.js';

/**
 * Every `header.action` (exact, hyphenated): the spec's nine, plus `verify`/`on-verify`
 * (OpenDCI extension, contract §9) and `on-notify` (our answer to IBR `sync/enrollment/updates`,
 * whose response action the spec leaves undefined).
 */
export const ACTIONS = [
  'search',
  'on-search',
  'subscribe',
  'on-subscribe',
  'notify',
  'unsubscribe',
  'on-unsubscribe',
  'txn-status',
  'txn-on-status',
  'verify',
  'on-verify',
  'on-notify',
] as const;
export type Action = (typeof ACTIONS)[number];

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

/**
 * `MsgHeader_V1.0.0`. `action` is any string here: the expected action depends on the endpoint
 * and is checked against the endpoint table (`rjct.action.invalid` / `err.request.bad`).
 * `sender_uri` is a plain string: an invalid one answers `err.sender_uri.invalid` (contract §4),
 * which the server checks after the schema.
 */
export const MsgHeader = Type.Object({
  version: Type.Optional(Type.String({ default: '1.0.0' })),
  message_id: Type.String({ minLength: 1 }),
  message_ts: DateTime,
  action: Type.String(),
  sender_id: Type.String({ minLength: 1 }),
  sender_uri: Type.Optional(Type.String()),
  receiver_id: Type.Optional(Type.String()),
  total_count: Type.Integer({ minimum: 0 }),
  is_msg_encrypted: Type.Optional(Type.Boolean({ default: false })),
  meta: Type.Optional(JsonObject),
});
export type MsgHeader = Static<typeof MsgHeader>;

/** `MsgCallbackHeader_V1.0.0`: `status` is required; `sender_id` and the counts are not. */
export const MsgCallbackHeader = Type.Object({
  version: Type.Optional(Type.String({ default: '1.0.0' })),
  message_id: Type.String({ minLength: 1 }),
  message_ts: DateTime,
  action: Type.String(),
  status: RequestStatus,
  status_reason_code: Type.Optional(HeaderStatusReasonCodeSchema),
  status_reason_message: Type.Optional(ReasonMessage),
  total_count: Type.Optional(Type.Integer({ minimum: 0 })),
  completed_count: Type.Optional(Type.Integer({ minimum: 0 })),
  sender_id: Type.Optional(Type.String()),
  receiver_id: Type.Optional(Type.String()),
  is_msg_encrypted: Type.Optional(Type.Boolean({ default: false })),
  meta: Type.Optional(JsonObject),
});
export type MsgCallbackHeader = Static<typeof MsgCallbackHeader>;

/**
 * The header of on-subscribe / on-unsubscribe callbacks we receive: the spec heads them with
 * `MsgHeader` (FR [C]: `MsgCallbackHeader`), so either is accepted.
 */
export const AnyCallbackHeader = Type.Union([MsgCallbackHeader, MsgHeader]);
export type AnyCallbackHeader = Static<typeof AnyCallbackHeader>;

/**
 * The superset header this project sends on every callback and sync response
 * (`dci-brief.md` §2.3): valid as `MsgHeader` and as `MsgCallbackHeader`.
 */
export const CallbackHeaderOut = Type.Object({
  version: Type.String(),
  message_id: Type.String({ minLength: 1 }),
  message_ts: DateTime,
  action: StringEnum(ACTIONS),
  status: RequestStatus,
  status_reason_code: Type.Optional(HeaderStatusReasonCodeSchema),
  status_reason_message: Type.Optional(ReasonMessage),
  total_count: Type.Integer({ minimum: 0 }),
  completed_count: Type.Integer({ minimum: 0 }),
  sender_id: Type.String({ minLength: 1 }),
  receiver_id: Type.Optional(Type.String()),
  is_msg_encrypted: Type.Boolean(),
  meta: Type.Optional(JsonObject),
});
export type CallbackHeaderOut = Static<typeof CallbackHeaderOut>;
