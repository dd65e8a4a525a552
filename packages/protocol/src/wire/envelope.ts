/**
 * The envelope `{signature?, header, message}` and the bodies answered outside it: the ACK
 * (`components.responses.Response`), the OpenDCI error body and the spec's `HttpErrorResponse`
 * (`dci-brief.md` §2.1, §2.5, §2.6; architecture §6).
 */
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { CorrelationId, DateTime, ErrorCodeSchema, StringEnum } from './common.js';

/**
 * The `signature` member. The spec types it `string` and never requires it; `null` is accepted too
 * because it is one of the placeholders of the `optional` signature policy (contract §5).
 */
export const SignatureField = Type.Union([Type.String(), Type.Null()]);

/** An envelope around a header and a message schema. */
export function EnvelopeSchema<H extends TSchema, M extends TSchema>(header: H, message: M) {
  return Type.Object({ signature: Type.Optional(SignatureField), header, message });
}

/**
 * An envelope whose `message` may be absent: callbacks and sync responses, where the spec requires
 * only `header` (a `rjct` header without a message rejects the whole request).
 */
export function CallbackEnvelopeSchema<H extends TSchema, M extends TSchema>(header: H, message: M) {
  return Type.Object({ signature: Type.Optional(SignatureField), header, message: Type.Optional(message) });
}

/** `ack_status`: ACK (callback will follow), NACK (valid, no callback), ERR (invalid). */
export const ACK_STATUSES = ['ACK', 'NACK', 'ERR'] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];

/** `Error`: communication-layer error (code from the spec's enum). */
export const AckError = Type.Object({
  code: ErrorCodeSchema,
  message: Type.String({ maxLength: 999 }),
});
export type AckError = Static<typeof AckError>;

/** The `message` of an ACK body. */
export const AckMessage = Type.Object({
  ack_status: StringEnum(ACK_STATUSES),
  timestamp: DateTime,
  correlation_id: CorrelationId,
  error: Type.Optional(AckError),
});
export type AckMessage = Static<typeof AckMessage>;

/** The ACK body answered by async endpoints and by the callback endpoints we serve. */
export const AckResponse = Type.Object({ message: AckMessage });
export type AckResponse = Static<typeof AckResponse>;

/**
 * The OpenDCI error body (architecture §6, brief §2.6): an ACK with `ack_status: "ERR"` and
 * `error`, plus the spec's `errors[]`, so that it satisfies `Response`, `HttpErrorResponse` and
 * the compliance suite's error-shape check at once.
 */
export const ErrorBody = Type.Object({
  message: Type.Object({
    ack_status: Type.Literal('ERR'),
    timestamp: DateTime,
    correlation_id: CorrelationId,
    error: AckError,
  }),
  errors: Type.Array(AckError, { minItems: 1 }),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** The spec's `HttpErrorResponse` (401/403/500): `{ errors: [{ code, message }] }`, nothing required. */
export const HttpErrorResponse = Type.Object({
  errors: Type.Optional(
    Type.Array(Type.Object({ code: Type.Optional(Type.String()), message: Type.Optional(Type.String()) })),
  ),
});
export type HttpErrorResponse = Static<typeof HttpErrorResponse>;
