/**
 * Our request schemas against the outside world:
 * (b) they accept the spec's own examples (instances assembled from the `example` values of every
 *     request body in `spec/latest` and `spec/upstream-2024`, one per query/filter shape) and the
 *     2024-era variants listed in `dci-brief.md` §10 and §12;
 * (c) they reject what must be rejected (missing header or message, wrong types, paging < 1,
 *     unknown query_type, …) with a readable message.
 */
import { describe, expect, it } from 'vitest';
import { DCI_DOMAINS } from './common.js';
import type { DciDomain, JsonObject } from './common.js';
import { endpointFor, endpointsFor } from './endpoints.js';
import type { WireEndpoint } from './endpoints.js';
import type { WireSchemaName } from './schemas.js';
import { compileValidators, describeErrors, validateRequest } from './validate.js';
import {
  exampleInstances,
  specAvailable,
  specFile,
  specRequestMessageSchema,
  specUnavailableReason,
} from '../test-support/spec.js';
import type { SpecVersion } from '../test-support/spec.js';
import { CLIENT_ID, RECORDS, T0 } from './test-support/fixtures.js';

const available = specAvailable();
if (!available) console.warn(specUnavailableReason());

const validators = compileValidators();

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rewrites an instance in place: `fn(key, value)` returns a replacement or undefined. */
function rewrite(node: unknown, fn: (key: string, value: unknown, parent: Json) => unknown): number {
  let changed = 0;
  const go = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(go);
    else if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        const replacement = fn(key, child, value);
        if (replacement !== undefined) {
          value[key] = replacement;
          changed++;
        } else go(child);
      }
    }
  };
  go(node);
  return changed;
}

/**
 * Examples of the spec that are invalid by the spec's own rules. Each is repaired before our schema
 * sees the instance, and each is proven real: the instance with only that repair left out is
 * rejected by our schema.
 */
const EXAMPLE_EXCEPTIONS: { id: string; reason: string; repair: (instance: unknown) => number }[] = [
  {
    id: 'a-timestamp-typos',
    reason:
      '[A] `UnSubscribeRequest` declares `timesstamp` and `UnSubscribeResponse` `timesatmp`, but both require ' +
      '`timestamp` (fixed in [C]); an instance built from the declared properties lacks the required one',
    repair: (i) => {
      let changed = 0;
      const visit = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(visit);
        if (!isObject(node)) return;
        const typo = ['timesstamp', 'timesatmp'].find((name) => name in node);
        if (typo && !('timestamp' in node)) {
          node.timestamp = node[typo];
          changed++;
        }
        Object.values(node).forEach(visit);
      };
      visit(i);
      return changed;
    },
  },
  {
    id: 'yaml-integer-id',
    reason:
      '`transaction_id` (reused by `attribute_value`) has the unquoted example 0123456789, which YAML 1.2 ' +
      'reads as the integer 123456789: ids are strings',
    repair: (i) => rewrite(i, (_k, v) => (v === 123456789 ? '0123456789' : undefined)),
  },
  {
    id: 'empty-timestamp',
    reason: '`SubscriptionInfo.timestamp` (reused by every timestamp, start_time, end_time) has `example: ""`',
    repair: (i) => rewrite(i, (k, v) => (v === '' && /^(timestamp|start_time|end_time)$/.test(k) ? T0 : undefined)),
  },
  {
    id: 'locale-en',
    reason: '`locale` has `example: en`, which fails the spec’s own pattern ^[a-z]{3,3}$ (brief §10.2 #10)',
    repair: (i) => rewrite(i, (k, v) => (k === 'locale' && v === 'en' ? 'eng' : undefined)),
  },
];

/**
 * The spec does not tie `query_type`/`filter_type`/`attribute_type`/`txn_type` to the shape of the
 * value next to it (the examples pair `query_type: expression` with every shape). Our schemas do,
 * so each assembled instance gets the discriminator that matches its shape.
 */
function pairDiscriminators(instance: unknown): void {
  const shapeType = (value: unknown) => {
    if (Array.isArray(value)) return 'predicate';
    if (isObject(value) && isObject(value.value)) {
      return typeof value.type === 'string' && value.type.includes('graphql') ? 'graphql' : 'expression';
    }
    return 'idtype-value';
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    if ('search_criteria' in node && isObject(node.search_criteria) && 'query' in node.search_criteria) {
      node.search_criteria.query_type = shapeType(node.search_criteria.query);
    }
    if ('subscribe_criteria' in node && isObject(node.subscribe_criteria) && 'filter' in node.subscribe_criteria) {
      node.subscribe_criteria.filter_type = shapeType(node.subscribe_criteria.filter);
    }
    if ('attribute_type' in node && 'attribute_value' in node) {
      node.attribute_type = Array.isArray(node.attribute_value) ? 'reference_id_list' : 'transaction_id';
    }
    if ('txn_type' in node && isObject(node.txn_status)) {
      const status = node.txn_status;
      node.txn_type =
        'search_response' in status
          ? 'search'
          : 'subscribe_response' in status
            ? 'subscribe'
            : 'receipt_information' in status
              ? 'receipt'
              : 'unsubscribe';
    }
    Object.values(node).forEach(visit);
  };
  visit(instance);
}

function check(name: WireSchemaName, instance: unknown): string {
  const validate = validators.schema(name);
  return validate(instance) ? 'ok' : describeErrors(validate.errors, 'message');
}

/** The endpoints whose request message we receive, per version's file. */
function receivedEndpoints(domain: DciDomain, version: SpecVersion): WireEndpoint[] {
  return endpointsFor(domain).filter((e) =>
    version === 'latest'
      ? e.origin === 'spec'
      : e.origin !== 'opendci' && !(domain === 'dr' && e.path.includes('get-disability-')),
  );
}

async function exampleCases(version: SpecVersion) {
  const cases: { label: string; endpoint: WireEndpoint; instance: unknown }[] = [];
  for (const domain of DCI_DOMAINS) {
    const file = specFile(domain, version);
    if (!file) continue;
    for (const endpoint of receivedEndpoints(domain, version)) {
      let schema: Json;
      try {
        schema = await specRequestMessageSchema(file, `/${endpoint.path}`);
      } catch {
        continue; // not in this version (e.g. SR [A] has no subscribe)
      }
      exampleInstances(schema).forEach((instance, n) => {
        cases.push({ label: `${domain} ${endpoint.path} #${n + 1}`, endpoint, instance });
      });
    }
  }
  return cases;
}

describe.skipIf(!available).each(['latest', 'upstream-2024'] as const)('spec examples (%s) are accepted', (version) => {
  it('every request body assembled from the examples validates, once the listed exceptions are repaired', async () => {
    const cases = await exampleCases(version);
    expect(cases.length).toBeGreaterThan(version === 'latest' ? 40 : 20);
    const used = new Set<string>();
    for (const { label, endpoint, instance } of cases) {
      pairDiscriminators(instance);
      const probe = structuredClone(instance);
      const applied = EXAMPLE_EXCEPTIONS.filter((exception) => exception.repair(probe) > 0);
      for (const exception of applied) {
        // Proven real: with every other repair made, our schema still rejects the instance.
        const partial = structuredClone(instance);
        for (const other of applied) if (other !== exception) other.repair(partial);
        expect(check(endpoint.requestMessage, partial), `${label}: ${exception.id}`).not.toBe('ok');
        used.add(exception.id);
      }
      for (const exception of applied) exception.repair(instance);
      expect(check(endpoint.requestMessage, instance), label).toBe('ok');
    }
    // Every listed exception is met at least once in the version it concerns.
    const expected =
      version === 'latest' ? ['yaml-integer-id', 'empty-timestamp', 'locale-en'] : EXAMPLE_EXCEPTIONS.map((e) => e.id);
    expect([...used].sort()).toEqual(expected.sort());
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written envelopes

function header(action: string, extra: Json = {}): Json {
  return {
    version: '1.0.0',
    message_id: 'm-1',
    message_ts: '2025-01-01T10:00:00Z',
    action,
    sender_id: CLIENT_ID,
    sender_uri: 'https://spmis.example.org/registry/on-search',
    receiver_id: 'opendci',
    total_count: 1,
    is_msg_encrypted: false,
    ...extra,
  };
}

function searchBody(criteria: Json = {}, item: Json = {}): Json {
  return {
    signature: 'unsigned-stub',
    header: header('search'),
    message: {
      transaction_id: 't-1',
      search_request: [
        {
          reference_id: 'r-1',
          timestamp: '2025-01-01T10:00:00Z',
          search_criteria: {
            version: '1.0.0',
            reg_type: 'ns:org:RegistryType:Social',
            reg_record_type: 'Member',
            query_type: 'idtype-value',
            query: { type: 'UIN', value: 'TEST-001' },
            sort: [{ attribute_name: 'registration_date', sort_order: 'desc' }],
            pagination: { page_size: 10, page_number: 1 },
            ...criteria,
          },
          locale: 'eng',
          ...item,
        },
      ],
    },
  };
}

const at = (domain: DciDomain, path: string) => endpointFor(domain, path)!;

function verdict(endpoint: WireEndpoint, body: unknown): string {
  const result = validateRequest(endpoint, body);
  return result.ok ? 'ok' : result.error;
}

describe('upstream-2024 and compliance-suite variants are accepted', () => {
  const search = at('social', 'registry/search');

  it('the brief’s reference search request', () => {
    expect(verdict(search, searchBody())).toBe('ok');
  });

  it('[A] search criteria with reg_event_type and no reg_type; response_entity outside Group|Member', () => {
    const body = searchBody({
      reg_type: undefined,
      reg_record_type: undefined,
      reg_event_type: 'REGISTER',
      response_entity: 'Household',
    });
    expect(verdict(search, JSON.parse(JSON.stringify(body)))).toBe('ok');
  });

  it('pagination at item level (compliance suite) and record_type (contract §7)', () => {
    const body = searchBody(
      { pagination: undefined, record_type: 'Group' },
      { pagination: { page_size: 5, page_number: 2 } },
    );
    expect(verdict(search, JSON.parse(JSON.stringify(body)))).toBe('ok');
  });

  it('predicate values the spec’s oneOf would refuse: integers, arrays for `in`, `gte`/`lte` aliases', () => {
    const body = searchBody({
      query_type: 'predicate',
      query: [
        {
          seq_num: 1,
          expression1: { attribute_name: 'age', operator: 'gte', attribute_value: 18 },
          condition: 'and',
          expression2: { attribute_name: 'area', operator: 'in', attribute_value: ['CR', 'NR'] },
        },
        { seq_num: 2, expression1: { attribute_name: 'poverty_score', operator: 'lte', attribute_value: 2.5 } },
      ],
    });
    expect(verdict(search, body)).toBe('ok');
    expect(verdict(search, searchBody({ query: { type: 'UIN', value: 12345 } }))).toBe('ok');
  });

  it('graphql query type in every domain, and a bare Mongo-like expression', () => {
    const graphql = {
      query_type: 'graphql',
      query: { type: 'ns:org:QueryType:graphql', value: { expression: 'query { member { name } }' } },
    };
    for (const domain of DCI_DOMAINS)
      expect(verdict(at(domain, 'registry/sync/search'), searchBody(graphql))).toBe('ok');
    expect(
      verdict(search, searchBody({ query_type: 'expression', query: { $and: [{ sex: { $eq: 'female' } }] } })),
    ).toBe('ok');
  });

  it('txn_type `subscibe` ([A] SR/IBR) and `on-search` ([A] CRVS)', () => {
    for (const [domain, txnType] of [
      ['social', 'subscibe'],
      ['crvs', 'on-search'],
    ] as const) {
      const body = {
        header: header('txn-status'),
        message: {
          transaction_id: 't-9',
          txnstatus_request: {
            reference_id: 'r-9',
            txn_type: txnType,
            attribute_type: 'transaction_id',
            attribute_value: 't-1',
            locale: 'eng',
          },
        },
      };
      expect(verdict(at(domain, 'registry/txn/status'), body)).toBe('ok');
    }
  });

  it('[A] unsubscribe: `sunscription_codes` and the extra `timesstamp`', () => {
    const body = {
      header: header('unsubscribe'),
      message: { transaction_id: 't-3', timestamp: T0, timesstamp: T0, sunscription_codes: ['sub-1'] },
    };
    expect(verdict(at('dr', 'registry/unsubscribe'), body)).toBe('ok');
  });

  it('subscribe without filter_type, with an OpenDCI event and an [A] `spdci-common:` prefixed event', () => {
    for (const event of ['UPDATE', 'spdci-common:RegistryEventType:LiveBirth', 'enrolment']) {
      const body = {
        header: header('subscribe'),
        message: {
          transaction_id: 't-2',
          subscribe_request: [
            {
              reference_id: 'r-1',
              timestamp: T0,
              subscribe_criteria: {
                reg_event_type: event,
                filter: { type: 'UIN', value: 'TEST-001' },
                notify_record_type: 'Member',
              },
            },
          ],
        },
      };
      expect(verdict(at('dr', 'registry/subscribe'), body)).toBe('ok');
    }
  });

  it('inbound callbacks of 2024 registries: notify with response_entity, on-unsubscribe with `timesatmp`, object reg_records, `enrolment_*` record names', () => {
    const cb = (action: string) => ({ ...header(action), status: 'succ', completed_count: 1 });
    const notify = {
      header: cb('notify'),
      message: {
        transaction_id: 't-2',
        notify_event: [
          {
            reference_id: 'r-1',
            timestamp: T0,
            data: { reg_event_type: 'LiveBirth', response_entity: 'Member', reg_records: RECORDS.crvs },
          },
        ],
      },
    };
    expect(verdict(at('crvs', 'registry/notify'), notify)).toBe('ok');
    const unsubscribed = {
      header: header('on-unsubscribe'),
      message: { transaction_id: 't-3', correlation_id: 'c-3', timestamp: T0, timesatmp: T0, status: 'succ' },
    };
    expect(verdict(at('crvs', 'registry/on-unsubscribe'), unsubscribed)).toBe('ok');
    const onSearch = {
      header: cb('on-search'),
      message: {
        transaction_id: 't-1',
        correlation_id: 'c-1',
        search_response: [
          {
            reference_id: 'r-1',
            timestamp: T0,
            status: 'succ',
            data: {
              version: '1.0.0',
              reg_records: { ...RECORDS.ibr, enrolment_date: '2023-02-01', enrolment_status: 'Active' },
            },
          },
        ],
      },
    };
    expect(verdict(at('ibr', 'registry/on-search'), onSearch)).toBe('ok');
  });

  it('callbacks: a rjct header may come without message; any other callback needs one', () => {
    const rejected = { header: { ...header('on-search'), status: 'rjct', status_reason_code: 'rjct.action.invalid' } };
    expect(verdict(at('social', 'registry/on-search'), rejected)).toBe('ok');
    const pending = { header: { ...header('on-search'), status: 'succ' } };
    expect(verdict(at('social', 'registry/on-search'), pending)).toBe('message is required');
    // on-subscribe accepts MsgHeader (spec) or MsgCallbackHeader (FR [C]).
    const onSubscribe = (h: Json) => ({
      header: h,
      message: { transaction_id: 't', correlation_id: 'c', subscribe_response: [] },
    });
    const { sender_id: _s, total_count: _t, ...callbackOnly }: Json = { ...header('on-subscribe'), status: 'succ' };
    expect(verdict(at('fr', 'registry/on-subscribe'), onSubscribe(header('on-subscribe')))).toBe('ok');
    expect(verdict(at('fr', 'registry/on-subscribe'), onSubscribe(callbackOnly))).toBe('ok');
  });

  it('the placeholder signatures of the optional policy, and extra members anywhere', () => {
    for (const signature of [null, '', 'unsigned', 'unsigned-stub']) {
      expect(verdict(search, { ...searchBody(), signature })).toBe('ok');
    }
    const body = searchBody({ x_custom: 1 }, { x_item: true });
    (body.header as Json).x_gateway = 'gw-1';
    body.x_top = {};
    expect(verdict(search, body)).toBe('ok');
  });

  it('an encrypted message is checked for the EncryptedMessage shape only', () => {
    const body = {
      header: header('search', { is_msg_encrypted: true }),
      message: {
        header: { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k1' },
        ciphertext: 'c',
        encrypted_key: 'k',
        tag: 't',
        iv: 'i',
      },
    };
    const result = validateRequest(search, body);
    expect(result.ok && result.encrypted).toBe(true);
    expect(verdict(search, { ...body, message: { ciphertext: 'c' } })).toBe('message.header is required');
  });
});

describe('requests that must be rejected, with a readable reason', () => {
  const search = at('social', 'registry/search');
  const cases: [string, unknown, string][] = [
    ['not an object', 'hello', 'the body must be object'],
    ['missing header', { message: searchBody().message }, 'header is required'],
    ['missing message', { header: header('search') }, 'message is required'],
    [
      'missing message_id',
      { ...searchBody(), header: { ...header('search'), message_id: undefined } },
      'header.message_id is required',
    ],
    [
      'total_count as a string',
      { ...searchBody(), header: header('search', { total_count: '1' }) },
      'header.total_count must be integer',
    ],
    [
      'message_ts without a time zone',
      { ...searchBody(), header: header('search', { message_ts: '2025-01-01T10:00:00' }) },
      'header.message_ts must be an ISO 8601 date-time with a time zone (e.g. 2025-01-01T10:00:00Z)',
    ],
    ['wrong action for the path', { ...searchBody(), header: header('subscribe') }, 'header.action must be "search"'],
    [
      'search_request not a list',
      { header: header('search'), message: { transaction_id: 't', search_request: {} } },
      'message.search_request must be array',
    ],
    [
      'transaction_id over 99 characters',
      { header: header('search'), message: { transaction_id: 'x'.repeat(100), search_request: [] } },
      'message.transaction_id must NOT have more than 99 characters',
    ],
    [
      'page_size 0',
      searchBody({ pagination: { page_size: 0 } }),
      'message.search_request[0].search_criteria.pagination.page_size must be >= 1',
    ],
    [
      'page_number 0',
      searchBody({ pagination: { page_size: 10, page_number: 0 } }),
      'message.search_request[0].search_criteria.pagination.page_number must be >= 1',
    ],
    [
      'page_size 2.5',
      searchBody({ pagination: { page_size: 2.5 } }),
      'message.search_request[0].search_criteria.pagination.page_size must be integer',
    ],
    [
      'item-level page_size 0',
      searchBody({}, { pagination: { page_size: 0 } }),
      'message.search_request[0].pagination.page_size must be >= 1',
    ],
    [
      'unknown query_type',
      searchBody({ query_type: 'sql' }),
      'message.search_request[0].search_criteria.query_type must be one of: idtype-value, expression, predicate, graphql',
    ],
    ['missing query', searchBody({ query: undefined }), 'message.search_request[0].search_criteria.query is required'],
    [
      'idtype-value query without value',
      searchBody({ query: { type: 'UIN' } }),
      'message.search_request[0].search_criteria.query.value is required',
    ],
    [
      'idtype-value query with a null value',
      searchBody({ query: { type: 'UIN', value: null } }),
      'message.search_request[0].search_criteria.query.value must be string or number or boolean or object',
    ],
    [
      'predicate query that is not a list',
      searchBody({ query_type: 'predicate', query: { type: 'UIN', value: 'x' } }),
      'message.search_request[0].search_criteria.query must be array',
    ],
    [
      'empty predicate list',
      searchBody({ query_type: 'predicate', query: [] }),
      'message.search_request[0].search_criteria.query must NOT have fewer than 1 items',
    ],
    [
      'predicate without attribute_value',
      searchBody({ query_type: 'predicate', query: [{ expression1: { attribute_name: 'age', operator: 'lt' } }] }),
      'message.search_request[0].search_criteria.query[0].expression1.attribute_value is required',
    ],
    [
      'locale en',
      searchBody({}, { locale: 'en' }),
      'message.search_request[0].locale must be a 3-letter lower-case ISO 639-3 code (e.g. eng)',
    ],
    [
      'timestamp not a date-time',
      searchBody({}, { timestamp: '01.02.2025' }),
      'message.search_request[0].timestamp must be an ISO 8601 date-time with a time zone (e.g. 2025-01-01T10:00:00Z)',
    ],
    [
      'consent as a string (samples)',
      searchBody({ consent: '' }),
      'message.search_request[0].search_criteria.consent must be object',
    ],
    ['signature as a number', { ...searchBody(), signature: 42 }, 'signature must be string or null'],
  ];

  it.each(cases)('%s', (_name, body, message) => {
    expect(verdict(search, JSON.parse(JSON.stringify(body)) as unknown)).toBe(message);
  });

  it('txn status: attribute_value must match attribute_type', () => {
    const body = (attributeType: string, attributeValue: unknown) => ({
      header: header('txn-status'),
      message: {
        transaction_id: 't',
        txnstatus_request: {
          reference_id: 'r',
          txn_type: 'search',
          attribute_type: attributeType,
          attribute_value: attributeValue,
        },
      },
    });
    const txn = at('crvs', 'registry/sync/txn/status');
    expect(verdict(txn, body('transaction_id', 't-1'))).toBe('ok');
    expect(verdict(txn, body('subscription_code_list', ['s-1']))).toBe('ok');
    expect(verdict(txn, body('transaction_id', ['t-1']))).toBe(
      'message.txnstatus_request.attribute_value must be string',
    );
    expect(verdict(txn, body('reference_id_list', 'r-1'))).toBe(
      'message.txnstatus_request.attribute_value must be array',
    );
    expect(verdict(txn, body('transaction_id', 42))).toBe('message.txnstatus_request.attribute_value must be string');
    expect(
      verdict(txn, {
        ...body('transaction_id', 't'),
        message: {
          transaction_id: 't',
          txnstatus_request: {
            reference_id: 'r',
            txn_type: 'verify',
            attribute_type: 'transaction_id',
            attribute_value: 't',
          },
        },
      }),
    ).toBe(
      'message.txnstatus_request.txn_type must be one of: search, subscribe, unsubscribe, receipt, subscibe, on-search, on-subscribe, on-unsubscribe',
    );
  });

  it('unsubscribe needs codes; subscribe needs reg_event_type, filter and notify_record_type', () => {
    const unsubscribe = { header: header('unsubscribe'), message: { transaction_id: 't', timestamp: T0 } };
    expect(verdict(at('social', 'registry/unsubscribe'), unsubscribe)).toBe('message.subscription_codes is required');
    const subscribe = (criteria: Json) => ({
      header: header('subscribe'),
      message: {
        transaction_id: 't',
        subscribe_request: [{ reference_id: 'r', timestamp: T0, subscribe_criteria: criteria }],
      },
    });
    expect(
      verdict(
        at('social', 'registry/subscribe'),
        subscribe({ filter: { type: 'UIN', value: '1' }, notify_record_type: 'Member' }),
      ),
    ).toBe('message.subscribe_request[0].subscribe_criteria.reg_event_type is required');
    expect(
      verdict(
        at('social', 'registry/subscribe'),
        subscribe({
          reg_event_type: 'REGISTER',
          filter_type: 'predicate',
          filter: { type: 'UIN', value: '1' },
          notify_record_type: 'Member',
        }),
      ),
    ).toBe('message.subscribe_request[0].subscribe_criteria.filter must be array');
  });

  it('verify: only idtype-value, at least one claim', () => {
    const body = (criteria: Json) => ({
      header: header('verify'),
      message: {
        transaction_id: 't',
        verify_request: [{ reference_id: 'r', timestamp: T0, verify_criteria: criteria }],
      },
    });
    const verify = at('fr', 'registry/sync/verify');
    expect(
      verdict(
        verify,
        body({ query_type: 'idtype-value', query: { type: 'FARMER_ID', value: 'F-1' }, claims: { farm_size: 2.5 } }),
      ),
    ).toBe('ok');
    expect(
      verdict(verify, body({ query_type: 'idtype-value', query: { type: 'FARMER_ID', value: 'F-1' }, claims: {} })),
    ).toBe('message.verify_request[0].verify_criteria.claims must NOT have fewer than 1 properties');
    expect(verdict(verify, body({ query_type: 'expression', query: { type: 'x', value: {} }, claims: { a: 1 } }))).toBe(
      'message.verify_request[0].verify_criteria.query_type must be "idtype-value"',
    );
  });

  it('message validators report paths under `message`', () => {
    const validate = validators.schema('SearchRequest');
    expect(validate({ transaction_id: 't' })).toBe(false);
    expect(describeErrors(validate.errors, 'message')).toBe('message.search_request is required');
  });
});

describe('every endpoint validator compiles', () => {
  it.each(DCI_DOMAINS)('%s', (domain) => {
    for (const endpoint of endpointsFor(domain)) {
      expect(typeof validators.request(endpoint)).toBe('function');
      expect(typeof validators.response(endpoint)).toBe('function');
    }
  });

  it('records stay open objects', () => {
    const record: JsonObject = RECORDS.social;
    expect(
      validators.schema('SearchResponse')({
        transaction_id: 't',
        correlation_id: 'c',
        search_response: [{ reference_id: 'r', timestamp: T0, status: 'succ', data: { reg_records: [record] } }],
      }),
    ).toBe(true);
  });
});
