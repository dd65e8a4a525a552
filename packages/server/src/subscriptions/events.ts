/**
 * Event types a subscription may name, per domain (contract §8), and the registry changes behind
 * each: the `registry_event` record types that raise it.
 */
import type { Domain } from '../config.js';

type EventTable = Readonly<Record<string, readonly string[]>>;

/** Domain → canonical event name → record types of the `registry_event` rows that raise it. */
export const DOMAIN_EVENTS: Readonly<Record<Domain, EventTable>> = {
  social: {
    REGISTER: ['individual', 'household'],
    NewHouseHoldMember: ['household'],
    UPDATE: ['individual', 'household'],
    DEREGISTER: ['individual', 'household'],
  },
  crvs: {
    LiveBirth: ['vital_event'],
    Death: ['vital_event'],
    Marriage: ['vital_event'],
    Divorce: ['vital_event'],
    UPDATE: ['individual', 'vital_event'],
    DEREGISTER: ['individual'],
  },
  ibr: {
    enrollement: ['enrollment'],
    enrollement_status_change: ['enrollment'],
    UPDATE: ['enrollment'],
    DEREGISTER: ['enrollment'],
  },
  dr: { REGISTER: ['disability'], UPDATE: ['disability'], DEREGISTER: ['disability'] },
  fr: { REGISTER: ['farm'], UPDATE: ['farm'], DEREGISTER: ['farm'] },
};

/** Accepted spellings (lower case, without the `spdci-common:RegistryEventType:` prefix). */
const ALIASES: Readonly<Record<string, string>> = {
  live_birth: 'LiveBirth',
  livebirth: 'LiveBirth',
  birth: 'LiveBirth',
  death: 'Death',
  marriage: 'Marriage',
  divorce: 'Divorce',
  enrollment: 'enrollement',
  enrolment: 'enrollement',
  enrollement: 'enrollement',
  enrollment_status_change: 'enrollement_status_change',
  enrolment_status_change: 'enrollement_status_change',
  enrollement_status_change: 'enrollement_status_change',
  register: 'REGISTER',
  registration: 'REGISTER',
  newhouseholdmember: 'NewHouseHoldMember',
  update: 'UPDATE',
  deregister: 'DEREGISTER',
};

const PREFIX = /^spdci-common:registryeventtype:/;

/** The canonical event name of a requested `reg_event_type` in a domain; undefined when it has none. */
export function canonicalEventType(domain: Domain, given: string): string | undefined {
  const key = given.trim().toLowerCase().replace(PREFIX, '');
  const name = ALIASES[key];
  return name && DOMAIN_EVENTS[domain][name] ? name : undefined;
}

/** The `(event_type, record_type)` pairs of `registry_event` rows that a subscription to `events` takes. */
export function eventPairs(domain: Domain, events: readonly string[]): [string, string][] {
  return events.flatMap((event) =>
    (DOMAIN_EVENTS[domain][event] ?? []).map((record): [string, string] => [event, record]),
  );
}

/**
 * Where a subscription's notifications go (contract §8): the sender's registered notify URI, else
 * the subscribe request's `sender_uri` with a trailing `/on-subscribe` made `/notify`.
 */
export function notifyTarget(notifyUri: string | null | undefined, senderUri: string | undefined): string | undefined {
  if (notifyUri) return notifyUri;
  if (!senderUri) return undefined;
  return senderUri.replace(/\/on-subscribe(\/?)(?=$|[?#])/, '/notify$1');
}
