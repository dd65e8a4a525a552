/**
 * Subscribe and unsubscribe: the protocol handlers behind the async `…/registry/subscribe` and
 * `…/registry/unsubscribe` jobs. Each subscribe item is checked on its own (event type, record
 * type, filter, notify target, window) and becomes one subscription with a registry-made code;
 * a bad item is a `rjct` result with the subscribe enum's code, never an exception.
 */
import { createHash } from 'node:crypto';
import {
  QueryError,
  parseSearchQuery,
  subscribeResponseItem,
  subscribeResponseMessage,
  unsubscribeCodes,
  unsubscribeResponseMessage,
  type QueryType,
  type SubscribeItemInput,
  type SubscribeRequest,
  type SubscribeStatusReasonCode,
  type UnsubscribeRequest,
  type UnsubscribeStatusReasonCode,
} from '@opendci/protocol';
import type { Domain } from '../config.js';
import { compileWhere } from '../search/compile.js';
import { findRecordType, VOCABULARY } from '../search/vocabulary.js';
import { canonicalEventType } from '../subscriptions/events.js';
import type { Caller } from './inbound.js';

export interface NewSubscription {
  code: string;
  senderId: string;
  domain: Domain;
  eventTypes: string[];
  recordType: string;
  recordKind: 'individual' | 'household';
  filterType: QueryType;
  filter: unknown;
  notifyUrl: string;
  frequency?: unknown;
  startsAt?: Date;
  expiresAt?: Date;
  transactionId: string;
  referenceId: string;
  correlationId: string;
}

export type UnsubscribeOutcome = 'unsubscribed' | 'already' | 'unknown' | 'not-yours';

export interface SubscribePorts {
  /** Creates the subscriptions; one that exists already (a job run twice) is left as it is. */
  create(subscriptions: NewSubscription[]): Promise<void>;
  /** Ends the sender's subscriptions; says what happened to each code. */
  unsubscribe(senderId: string, codes: string[]): Promise<Map<string, UnsubscribeOutcome>>;
}

export interface SubscribeOutcome {
  message: object;
  status: 'succ' | 'rjct' | 'part';
  referenceIds: string[];
}

type Item = SubscribeRequest['subscribe_request'][number];

class ItemRejection extends Error {
  constructor(
    readonly code: SubscribeStatusReasonCode,
    message: string,
  ) {
    super(message);
  }
}

/** `filter_type` may be left out (the compliance suite does): inferred from the filter's shape. */
export function filterTypeOf(filterType: unknown, filter: unknown): QueryType {
  if (filterType === 'idtype-value' || filterType === 'expression' || filterType === 'predicate') return filterType;
  if (Array.isArray(filter)) return 'predicate';
  const f = filter as Record<string, unknown> | null;
  if (f && typeof f === 'object' && typeof f.type === 'string' && 'value' in f) return 'idtype-value';
  return 'expression';
}

/** A subscription's code: the same for the same item of the same request, so a rerun job makes no twin. */
export function subscriptionCode(correlationId: string, referenceId: string): string {
  const hex = createHash('sha256').update(`${correlationId}\u0000${referenceId}`).digest('hex');
  return `sub-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function plan(
  item: Item,
  context: {
    domain: Domain;
    caller: Caller;
    correlationId: string;
    transactionId: string;
    notifyUrl?: string;
    now: Date;
  },
): { subscription: NewSubscription; answer: SubscribeItemInput } {
  const { domain } = context;
  const criteria = item.subscribe_criteria;
  const event = canonicalEventType(domain, criteria.reg_event_type);
  if (!event) {
    throw new ItemRejection(
      'rjct.notify_types.invalid',
      `${criteria.reg_event_type} is not an event of the ${domain} registry`,
    );
  }
  const type = findRecordType(domain, criteria.notify_record_type);
  if (!type) {
    const names = VOCABULARY[domain].types.map((t) => t.name).join(', ');
    throw new ItemRejection(
      'rjct.notify_details.invalid',
      `notify_record_type ${criteria.notify_record_type} is not served by the ${domain} registry (use ${names})`,
    );
  }
  const filterType = filterTypeOf(criteria.filter_type, criteria.filter);
  try {
    const { node } = parseSearchQuery(filterType, criteria.filter);
    compileWhere(type, node, { today: context.now.toISOString().slice(0, 10) });
  } catch (error) {
    if (error instanceof QueryError) throw new ItemRejection('rjct.notify_details.invalid', `filter: ${error.message}`);
    throw error;
  }
  if (!context.notifyUrl) {
    throw new ItemRejection(
      'rjct.notify_details.invalid',
      'no notify target: register a notify URI for the sender, or send header.sender_uri',
    );
  }
  const startsAt = criteria.frequency ? new Date(criteria.frequency.start_time) : undefined;
  const expiresAt = criteria.frequency ? new Date(criteria.frequency.end_time) : undefined;
  if (expiresAt && expiresAt <= context.now) {
    throw new ItemRejection('rjct.notify_details.invalid', 'frequency.end_time is in the past');
  }
  const referenceId = String(item.reference_id);
  const code = subscriptionCode(context.correlationId, referenceId);
  return {
    subscription: {
      code,
      senderId: context.caller.sender.id,
      domain,
      eventTypes: [event],
      recordType: type.name,
      recordKind: type.kind,
      filterType,
      filter: criteria.filter,
      notifyUrl: context.notifyUrl,
      ...(criteria.frequency ? { frequency: criteria.frequency } : {}),
      ...(startsAt ? { startsAt } : {}),
      ...(expiresAt ? { expiresAt } : {}),
      transactionId: context.transactionId,
      referenceId,
      correlationId: context.correlationId,
    },
    answer: {
      referenceId,
      subscriptions: [
        {
          code,
          status: 'subscribe',
          regEventType: event,
          notifyRecordType: type.name,
          filterType,
          filter: criteria.filter,
          ...(criteria.reg_type ? { regType: criteria.reg_type } : {}),
          ...(criteria.frequency ? { frequency: criteria.frequency } : {}),
        },
      ],
      ...(item.locale ? { locale: item.locale } : {}),
    },
  };
}

export async function subscribe(
  message: SubscribeRequest,
  correlationId: string,
  caller: Caller,
  ports: SubscribePorts,
  settings: { domain: Domain; notifyUrl?: string; now?: Date },
): Promise<SubscribeOutcome> {
  const now = settings.now ?? new Date();
  const seen = new Set<string>();
  const created: NewSubscription[] = [];
  const items: SubscribeItemInput[] = [];
  for (const item of message.subscribe_request) {
    const referenceId = String(item.reference_id);
    try {
      if (seen.has(referenceId)) {
        throw new ItemRejection('rjct.reference_id.duplicate', `reference_id ${referenceId} is used twice`);
      }
      seen.add(referenceId);
      const planned = plan(item, {
        domain: settings.domain,
        caller,
        correlationId,
        transactionId: message.transaction_id,
        ...(settings.notifyUrl ? { notifyUrl: settings.notifyUrl } : {}),
        now,
      });
      created.push(planned.subscription);
      items.push(planned.answer);
    } catch (error) {
      if (!(error instanceof ItemRejection)) throw error;
      items.push({ referenceId, status: 'rjct', reasonCode: error.code, reasonMessage: error.message });
    }
  }
  if (created.length > 0) await ports.create(created);
  const answered = items.map(subscribeResponseItem);
  const succeeded = answered.filter((item) => item.status === 'succ').length;
  return {
    message: subscribeResponseMessage({ transactionId: message.transaction_id, correlationId, items }),
    status: succeeded === answered.length ? 'succ' : succeeded === 0 ? 'rjct' : 'part',
    referenceIds: answered.map((item) => item.reference_id),
  };
}

const PROBLEMS: Record<Exclude<UnsubscribeOutcome, 'unsubscribed'>, UnsubscribeStatusReasonCode> = {
  unknown: 'rjct.subscription_code.invalid',
  'not-yours': 'rjct.requester.invalid',
  already: 'rjct.event.already_unsubscribed',
};

export async function unsubscribe(
  message: UnsubscribeRequest,
  correlationId: string,
  caller: Caller,
  ports: SubscribePorts,
): Promise<SubscribeOutcome> {
  const codes = [...new Set(unsubscribeCodes(message))];
  const outcomes = await ports.unsubscribe(caller.sender.id, codes);
  const done = codes.filter((code) => outcomes.get(code) === 'unsubscribed' || outcomes.get(code) === 'already');
  // The first problem names the reason; every code it applies to is listed in the message.
  const problem = (['unknown', 'not-yours', 'already'] as const).find((kind) =>
    codes.some((code) => outcomes.get(code) === kind),
  );
  const status = problem ? 'rjct' : 'succ';
  const response = unsubscribeResponseMessage({
    transactionId: message.transaction_id,
    correlationId,
    status,
    ...(problem
      ? {
          reasonCode: PROBLEMS[problem],
          reasonMessage: `${problem === 'unknown' ? 'unknown' : problem === 'not-yours' ? "another sender's" : 'already unsubscribed'}: ${codes.filter((code) => outcomes.get(code) === problem).join(', ')}`,
        }
      : {}),
    subscriptions: done.map((code) => ({ code, status: 'unsubscribe' as const })),
  });
  return { message: response, status, referenceIds: [] };
}
