/**
 * Every DCI endpoint of every domain, in one table (`dci-brief.md` §1.2–1.4 for [C], contract §9
 * for verify). Paths are relative to the domain prefix (`/{domain}/registry/…`, and `/registry/…`
 * for the default domain).
 *
 * - `action` is the exact `header.action` the request must carry (hyphenated: `txn-status`).
 * - `mode`: `sync` answers a result envelope (200), `async` an ACK (202) followed by a callback to
 *   `header.sender_uri`, `callback` is a POST we receive from a registry (answered 200 + ACK).
 * - `operation` is what the caller must be allowed (`callback`: only an active sender).
 * - `requestHeader` names the header schema of the request body; `response` the answer.
 */
import { DCI_DOMAINS } from './common.js';
import type { DciDomain } from './common.js';
import type { Action } from './header.js';
import type { HeaderKind, WireSchemaName } from './schemas.js';

export type EndpointMode = 'sync' | 'async' | 'callback';
export type EndpointOperation = 'search' | 'subscribe' | 'unsubscribe' | 'txn-status' | 'verify' | 'callback';
/** Where an endpoint comes from: the [C] spec, only the [A] 2024 release, or an OpenDCI extension. */
export type EndpointOrigin = 'spec' | 'upstream-2024' | 'opendci';

export type EndpointResponse =
  /** The ACK body (`{ message: { ack_status, timestamp, correlation_id } }`). */
  | { readonly kind: 'ack' }
  /** A signed envelope: superset callback header with `action`, and `message`. */
  | { readonly kind: 'envelope'; readonly action: Action; readonly message: WireSchemaName };

export interface EndpointSchemas {
  readonly requestHeader: HeaderKind;
  readonly requestMessage: WireSchemaName;
  readonly response: EndpointResponse;
}

export interface EndpointDefinition extends EndpointSchemas {
  /** Relative path, e.g. `registry/sync/search`. */
  readonly path: string;
  readonly action: Action;
  readonly mode: EndpointMode;
  readonly operation: EndpointOperation;
  /** Who serves it: the registry (this server) or the client (SP-MIS callback receiver). */
  readonly implementedBy: 'registry' | 'client';
  readonly domains: readonly DciDomain[];
  readonly origin: EndpointOrigin;
  /** For async endpoints: the callback the result is POSTed as. */
  readonly callback?: { readonly path: string; readonly action: Action };
  /** Domain-specific schemas (e.g. DR's single-record search response). */
  readonly perDomain?: Partial<Record<DciDomain, Partial<EndpointSchemas>>>;
  readonly description: string;
}

/** One endpoint as served in one domain. */
export interface WireEndpoint extends Omit<EndpointDefinition, 'perDomain'> {
  readonly domain: DciDomain;
  /**
   * Whether the request body must carry `message`: always for requests; for callbacks only when
   * `header.status` is not `rjct` (contract §3).
   */
  readonly messageRequired: 'always' | 'unless-rjct';
}

const ALL = DCI_DOMAINS;
/** DR has no txn status endpoints (upstream issue #49). */
const NOT_DR: readonly DciDomain[] = ['social', 'crvs', 'ibr', 'fr'];
const ACK = { kind: 'ack' } as const;

export const ENDPOINTS: readonly EndpointDefinition[] = [
  {
    path: 'registry/search',
    action: 'search',
    mode: 'async',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'SearchRequest',
    response: ACK,
    callback: { path: 'registry/on-search', action: 'on-search' },
    domains: ALL,
    origin: 'spec',
    description: 'Async search; results are POSTed to header.sender_uri as on-search.',
  },
  {
    path: 'registry/sync/search',
    action: 'search',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'SearchRequest',
    response: { kind: 'envelope', action: 'on-search', message: 'SearchResponse' },
    perDomain: { dr: { response: { kind: 'envelope', action: 'on-search', message: 'DrSearchResponse' } } },
    domains: ALL,
    origin: 'spec',
    description: 'Sync search; DR answers one record per item as an object.',
  },
  {
    path: 'registry/on-search',
    action: 'on-search',
    mode: 'callback',
    operation: 'callback',
    implementedBy: 'client',
    requestHeader: 'MsgCallbackHeader',
    requestMessage: 'AnySearchResponse',
    response: ACK,
    domains: ALL,
    origin: 'spec',
    description: 'Search results (one callback per page allowed); reg_records as array or object.',
  },
  {
    path: 'registry/subscribe',
    action: 'subscribe',
    mode: 'async',
    operation: 'subscribe',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'SubscribeRequest',
    response: ACK,
    callback: { path: 'registry/on-subscribe', action: 'on-subscribe' },
    domains: ALL,
    origin: 'spec',
    description: 'Subscribe to registry events; the codes arrive in on-subscribe.',
  },
  {
    path: 'registry/on-subscribe',
    action: 'on-subscribe',
    mode: 'callback',
    operation: 'callback',
    implementedBy: 'client',
    requestHeader: 'AnyCallbackHeader',
    requestMessage: 'SubscribeResponse',
    response: ACK,
    domains: ALL,
    origin: 'spec',
    description: 'Subscription results. Spec header: MsgHeader (FR: MsgCallbackHeader); either is accepted.',
  },
  {
    path: 'registry/unsubscribe',
    action: 'unsubscribe',
    mode: 'async',
    operation: 'unsubscribe',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'UnsubscribeRequest',
    response: ACK,
    callback: { path: 'registry/on-unsubscribe', action: 'on-unsubscribe' },
    domains: ALL,
    origin: 'spec',
    description: 'Unsubscribe by subscription code; unknown codes are ACKed and reported in on-unsubscribe.',
  },
  {
    path: 'registry/on-unsubscribe',
    action: 'on-unsubscribe',
    mode: 'callback',
    operation: 'callback',
    implementedBy: 'client',
    requestHeader: 'AnyCallbackHeader',
    requestMessage: 'UnsubscribeResponse',
    response: ACK,
    domains: ALL,
    origin: 'spec',
    description: 'Unsubscribe results. Spec header: MsgHeader; either header is accepted.',
  },
  {
    path: 'registry/notify',
    action: 'notify',
    mode: 'callback',
    operation: 'callback',
    implementedBy: 'client',
    requestHeader: 'MsgCallbackHeader',
    requestMessage: 'NotifyEventRequest',
    response: ACK,
    domains: ALL,
    origin: 'spec',
    description: 'Event notification pushed by the registry to a subscriber; reg_records is an object.',
  },
  {
    path: 'registry/txn/status',
    action: 'txn-status',
    mode: 'async',
    operation: 'txn-status',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'TxnStatusRequest',
    response: ACK,
    callback: { path: 'registry/txn/on-status', action: 'txn-on-status' },
    domains: NOT_DR,
    origin: 'spec',
    description: 'Async status of an earlier transaction; answered as txn/on-status.',
  },
  {
    path: 'registry/sync/txn/status',
    action: 'txn-status',
    mode: 'sync',
    operation: 'txn-status',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'TxnStatusRequest',
    response: { kind: 'envelope', action: 'txn-on-status', message: 'TxnStatusResponse' },
    domains: NOT_DR,
    origin: 'spec',
    description: 'Sync status of an earlier transaction.',
  },
  {
    path: 'registry/txn/on-status',
    action: 'txn-on-status',
    mode: 'callback',
    operation: 'callback',
    implementedBy: 'client',
    requestHeader: 'MsgCallbackHeader',
    requestMessage: 'TxnStatusResponse',
    response: ACK,
    domains: NOT_DR,
    origin: 'spec',
    description: 'Transaction status results.',
  },
  {
    path: 'registry/sync/verify',
    action: 'verify',
    mode: 'sync',
    operation: 'verify',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'VerifyRequest',
    response: { kind: 'envelope', action: 'on-verify', message: 'VerifyResponse' },
    domains: ALL,
    origin: 'opendci',
    description: 'OpenDCI extension (contract §9): yes/no/unknown per claim, never record data.',
  },
  {
    path: 'registry/sync/enrolled',
    action: 'search',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'EnrolledRequest',
    response: { kind: 'envelope', action: 'on-search', message: 'EnrolledResponse' },
    domains: ['ibr'],
    origin: 'spec',
    description: 'IBR: is this person or group enrolled (yes/no). The spec declares a bare schema as response.',
  },
  {
    path: 'registry/sync/enrollment/updates',
    action: 'notify',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgCallbackHeader',
    requestMessage: 'EnrollmentUpdatesRequest',
    response: { kind: 'envelope', action: 'on-notify', message: 'EnrollmentUpdatesResponse' },
    domains: ['ibr'],
    origin: 'spec',
    description:
      'IBR: the SP-MIS pushes enrolled/updated beneficiaries (callback header, action notify). ' +
      'The spec defines no response action: we answer on-notify, and clients must ignore it.',
  },
  {
    path: 'registry/sync/disabled',
    action: 'search',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'DisabledRequest',
    response: { kind: 'envelope', action: 'on-search', message: 'DisabledResponse' },
    domains: ['dr'],
    origin: 'spec',
    description: 'DR: is this person registered as disabled (yes/no).',
  },
  {
    path: 'registry/sync/get-disability-support',
    action: 'search',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'GetDisabilitySupportRequest',
    response: { kind: 'envelope', action: 'on-search', message: 'GetDisabilitySupportResponse' },
    domains: ['dr'],
    origin: 'spec',
    description: 'DR: disability support records (reg_records is a list of lists, as the spec writes it).',
  },
  {
    path: 'registry/sync/get-disability-details',
    action: 'search',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'GetDisabilitySupportRequest',
    response: { kind: 'envelope', action: 'on-search', message: 'GetDisabilityInfoResponse' },
    domains: ['dr'],
    origin: 'spec',
    description: 'DR: disabled-person details (the request reuses GetDisabilitySupportRequest).',
  },
  {
    path: 'registry/sync/get-disability-info',
    action: 'search',
    mode: 'sync',
    operation: 'search',
    implementedBy: 'registry',
    requestHeader: 'MsgHeader',
    requestMessage: 'DisabledRequest',
    response: { kind: 'envelope', action: 'on-search', message: 'GetDisabilityInfoResponse' },
    domains: ['dr'],
    origin: 'upstream-2024',
    description: 'DR [A] name of get-disability-details, kept for 2024 clients.',
  },
];

function resolve(definition: EndpointDefinition, domain: DciDomain): WireEndpoint {
  const { perDomain, ...rest } = definition;
  return {
    ...rest,
    ...perDomain?.[domain],
    domain,
    messageRequired: definition.mode === 'callback' ? 'unless-rjct' : 'always',
  };
}

const BY_DOMAIN: ReadonlyMap<DciDomain, ReadonlyMap<string, WireEndpoint>> = new Map(
  DCI_DOMAINS.map((domain) => [
    domain,
    new Map(
      ENDPOINTS.filter((e) => e.domains.includes(domain)).map((e) => [e.path, Object.freeze(resolve(e, domain))]),
    ),
  ]),
);

/** `registry/search` from `/registry/search`, `/social/registry/search/`, `registry/search?x`. */
function normalizePath(domain: DciDomain, path: string): string {
  let p = path.split('?')[0] ?? '';
  p = p.replace(/^\/+|\/+$/g, '');
  if (p.startsWith(`${domain}/`)) p = p.slice(domain.length + 1);
  return p;
}

/** The endpoint served at `path` in `domain`, or undefined (→ 404 `err.request.not_found`). */
export function endpointFor(domain: DciDomain, path: string): WireEndpoint | undefined {
  return BY_DOMAIN.get(domain)?.get(normalizePath(domain, path));
}

/** Every endpoint of a domain, in table order. */
export function endpointsFor(domain: DciDomain): WireEndpoint[] {
  return [...(BY_DOMAIN.get(domain)?.values() ?? [])];
}
