/**
 * Every wire schema by name: the keys the endpoint table and the validators use.
 */
import type { Static } from 'typebox';
import { EncryptedMessage } from './common.js';
import { AckResponse, ErrorBody, HttpErrorResponse } from './envelope.js';
import {
  DisabledRequest,
  DisabledResponse,
  EnrolledRequest,
  EnrolledResponse,
  EnrollmentUpdatesRequest,
  EnrollmentUpdatesResponse,
  GetDisabilityInfoResponse,
  GetDisabilitySupportRequest,
  GetDisabilitySupportResponse,
  VerifyRequest,
  VerifyResponse,
} from './extras.js';
import { AnyCallbackHeader, CallbackHeaderOut, MsgCallbackHeader, MsgHeader } from './header.js';
import { AnySearchResponse, DrSearchResponse, SearchRequest, SearchResponse } from './search.js';
import {
  NotifyEventRequest,
  SubscribeRequest,
  SubscribeResponse,
  UnsubscribeRequest,
  UnsubscribeResponse,
} from './subscribe.js';
import { TxnStatusRequest, TxnStatusResponse } from './txn.js';

export const WIRE_SCHEMAS = {
  MsgHeader,
  MsgCallbackHeader,
  AnyCallbackHeader,
  CallbackHeaderOut,
  EncryptedMessage,
  AckResponse,
  ErrorBody,
  HttpErrorResponse,
  SearchRequest,
  SearchResponse,
  DrSearchResponse,
  AnySearchResponse,
  SubscribeRequest,
  SubscribeResponse,
  UnsubscribeRequest,
  UnsubscribeResponse,
  NotifyEventRequest,
  TxnStatusRequest,
  TxnStatusResponse,
  EnrolledRequest,
  EnrolledResponse,
  EnrollmentUpdatesRequest,
  EnrollmentUpdatesResponse,
  DisabledRequest,
  DisabledResponse,
  GetDisabilitySupportRequest,
  GetDisabilitySupportResponse,
  GetDisabilityInfoResponse,
  VerifyRequest,
  VerifyResponse,
} as const;

export type WireSchemas = typeof WIRE_SCHEMAS;
export type WireSchemaName = keyof WireSchemas;
/** The TS type of a named wire schema. */
export type WireType<N extends WireSchemaName> = Static<WireSchemas[N]>;

export const WIRE_SCHEMA_NAMES = Object.keys(WIRE_SCHEMAS) as WireSchemaName[];

/** The header schemas an endpoint may name. */
export type HeaderKind = 'MsgHeader' | 'MsgCallbackHeader' | 'AnyCallbackHeader';
