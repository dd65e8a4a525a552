/**
 * Unit tests of the wire module: builders, the endpoint table, validators and error messages.
 * (Spec conformance is in conformance.test.ts, acceptance/rejection in schemas.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import * as protocol from '../index.js';
import {
  ack,
  callbackHeader,
  errorBody,
  isoTimestamp,
  notifyMessage,
  requestHeader,
  searchResponseItem,
  subscribeResponseItem,
  txnStatusRequestMessage,
  verifyOutcome,
  verifyResponseItem,
} from './build.js';
import { DCI_DOMAINS } from './common.js';
import { ENDPOINTS, endpointFor, endpointsFor } from './endpoints.js';
import { ACTIONS } from './header.js';
import { WIRE_SCHEMA_NAMES } from './schemas.js';
import { unsubscribeCodes } from './subscribe.js';
import { normalizeTxnType } from './txn.js';
import { compileValidators, describeErrors, instancePathToDotted, isEncryptedEnvelope } from './validate.js';

const validators = compileValidators();
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe('builders', () => {
  it('ack: ACK by default, timestamp with Z, the given correlation id; no signature', () => {
    const body = ack({ correlationId: 'c-1' });
    expect(body.message.ack_status).toBe('ACK');
    expect(body.message.correlation_id).toBe('c-1');
    expect(body.message.timestamp).toMatch(ISO_Z);
    expect(body).not.toHaveProperty('signature');
    expect(validators.schema('AckResponse')(body)).toBe(true);
  });

  it('errorBody: ERR with error and errors[], a fresh correlation id, a message clipped to 999', () => {
    const body = errorBody({ code: 'err.signature.invalid', message: 'x'.repeat(2000), timestamp: new Date(0) });
    expect(body.message.ack_status).toBe('ERR');
    expect(body.message.timestamp).toBe('1970-01-01T00:00:00.000Z');
    expect(body.message.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.message.error.message).toHaveLength(999);
    expect(body.errors).toEqual([body.message.error]);
    expect(validators.schema('ErrorBody')(body)).toBe(true);
    expect(validators.schema('AckResponse')(body)).toBe(true);
  });

  it.each(ERROR_CODES)('errorBody accepts every spec error code: %s', (code) => {
    expect(validators.schema('ErrorBody')(errorBody({ code, message: 'm' }))).toBe(true);
  });

  it('callbackHeader: the superset header, valid as MsgHeader and MsgCallbackHeader', () => {
    const header = callbackHeader({
      action: 'on-search',
      senderId: 'opendci',
      receiverId: 'c',
      status: 'succ',
      totalCount: 2,
      completedCount: 1,
    });
    expect(header).toMatchObject({
      version: '1.0.0',
      action: 'on-search',
      status: 'succ',
      total_count: 2,
      completed_count: 1,
      sender_id: 'opendci',
      receiver_id: 'c',
      is_msg_encrypted: false,
    });
    expect(header.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(header.message_ts).toMatch(ISO_Z);
    for (const name of ['MsgHeader', 'MsgCallbackHeader', 'CallbackHeaderOut'] as const)
      expect(validators.schema(name)(header)).toBe(true);
    const rejected = callbackHeader({
      action: 'on-search',
      senderId: 'opendci',
      status: 'rjct',
      totalCount: 1,
      completedCount: 0,
      statusReasonCode: 'rjct.message_id.duplicate',
      statusReasonMessage: 'seen before',
      messageId: 'm-9',
      ts: '2025-01-01T00:00:00Z',
    });
    expect(rejected).toMatchObject({
      message_id: 'm-9',
      message_ts: '2025-01-01T00:00:00Z',
      status_reason_code: 'rjct.message_id.duplicate',
    });
    expect(rejected).not.toHaveProperty('receiver_id');
  });

  it('requestHeader: sender_uri only when given', () => {
    expect(requestHeader({ action: 'search', senderId: 's', totalCount: 1 })).not.toHaveProperty('sender_uri');
    expect(
      requestHeader({ action: 'search', senderId: 's', totalCount: 1, senderUri: 'https://x/registry/on-search' })
        .sender_uri,
    ).toBe('https://x/registry/on-search');
  });

  it('searchResponseItem: succ carries data + pagination + locale eng; rjct carries the reason and no data', () => {
    const ok = searchResponseItem({
      referenceId: 'r',
      records: [{ a: 1 }],
      regType: 'ns:org:RegistryType:Social',
      regRecordType: 'Member',
      pagination: { pageSize: 10, pageNumber: 1, totalCount: 1 },
    });
    expect(ok).toMatchObject({
      status: 'succ',
      data: {
        version: '1.0.0',
        reg_type: 'ns:org:RegistryType:Social',
        reg_record_type: 'Member',
        reg_records: [{ a: 1 }],
      },
      pagination: { page_size: 10, page_number: 1, total_count: 1 },
      locale: 'eng',
    });
    const single = searchResponseItem({
      referenceId: 'r',
      records: { a: 1 },
      regRecordType: 'DisabledPerson',
      pagination: { pageSize: 1, pageNumber: 1, totalCount: 1 },
    });
    expect(single.data?.reg_records).toEqual({ a: 1 });
    const rjct = searchResponseItem({
      referenceId: 'r',
      status: 'rjct',
      reasonCode: 'rjct.sort.invalid',
      reasonMessage: 'bad sort',
    });
    expect(rjct).toEqual({
      reference_id: 'r',
      timestamp: rjct.timestamp,
      status: 'rjct',
      status_reason_code: 'rjct.sort.invalid',
      status_reason_message: 'bad sort',
      locale: 'eng',
    });
    expect(Object.keys(rjct)).toEqual([
      'reference_id',
      'timestamp',
      'status',
      'status_reason_code',
      'status_reason_message',
      'locale',
    ]);
  });

  it('subscribe items: succ with subscription infos, rjct with a subscribe reason code', () => {
    const ok = subscribeResponseItem({ referenceId: 'r', subscriptions: [{ code: 's-1', regEventType: 'REGISTER' }] });
    expect(ok.subscriptions).toEqual([
      expect.objectContaining({ code: 's-1', status: 'subscribe', reg_event_type: 'REGISTER', locale: 'eng' }),
    ]);
    const rjct = subscribeResponseItem({ referenceId: 'r', status: 'rjct', reasonCode: 'rjct.notify_details.invalid' });
    expect(rjct).not.toHaveProperty('subscriptions');
    expect(rjct.status_reason_code).toBe('rjct.notify_details.invalid');
  });

  it('notify: one object per event, never a list', () => {
    const message = notifyMessage({
      transactionId: 't',
      events: [
        { referenceId: 'r', regEventType: 'REGISTER', regRecordType: 'Member', record: { '@id': 'urn:uuid:1' } },
      ],
    });
    expect(message.notify_event[0]!.data).toEqual({
      version: '1.0.0',
      reg_event_type: 'REGISTER',
      reg_record_type: 'Member',
      reg_records: { '@id': 'urn:uuid:1' },
    });
    expect(validators.schema('NotifyEventRequest')(message)).toBe(true);
  });

  it('verify: verified is yes only when every claim is yes, no when any is no, else unknown', () => {
    expect(verifyOutcome({ a: 'yes', b: 'yes' })).toBe('yes');
    expect(verifyOutcome({ a: 'yes', b: 'no', c: 'unknown' })).toBe('no');
    expect(verifyOutcome({ a: 'yes', b: 'unknown' })).toBe('unknown');
    expect(verifyOutcome({})).toBe('unknown');
    const rjct = verifyResponseItem({ referenceId: 'r', status: 'rjct', reasonCode: 'rjct.search_criteria.invalid' });
    expect(rjct).toMatchObject({ status: 'rjct', verified: 'unknown', claims: {} });
  });

  it('txn status request: string for ids, list for lists', () => {
    const byId = txnStatusRequestMessage({ txnType: 'search', attributeType: 'transaction_id', attributeValue: 't-1' });
    const byList = txnStatusRequestMessage({
      txnType: 'subscribe',
      attributeType: 'subscription_code_list',
      attributeValue: ['s-1'],
    });
    expect(validators.schema('TxnStatusRequest')(byId)).toBe(true);
    expect(validators.schema('TxnStatusRequest')(byList)).toBe(true);
  });

  it('isoTimestamp keeps strings and converts dates', () => {
    expect(isoTimestamp('2025-01-01T00:00:00+01:00')).toBe('2025-01-01T00:00:00+01:00');
    expect(isoTimestamp(new Date(Date.UTC(2025, 0, 2)))).toBe('2025-01-02T00:00:00.000Z');
    expect(isoTimestamp()).toMatch(ISO_Z);
  });
});

describe('endpoint table', () => {
  it('finds endpoints with or without a leading slash, domain prefix, trailing slash or query', () => {
    for (const path of [
      'registry/search',
      '/registry/search',
      '/social/registry/search',
      'registry/search/',
      '/registry/search?x=1',
    ]) {
      expect(endpointFor('social', path)?.path).toBe('registry/search');
    }
    expect(endpointFor('social', 'registry/nothing')).toBeUndefined();
    expect(endpointFor('social', 'registry/sync/enrolled')).toBeUndefined();
  });

  it('actions are exact and hyphenated; sync answers carry the on-* action', () => {
    expect(endpointFor('crvs', 'registry/txn/status')).toMatchObject({
      action: 'txn-status',
      mode: 'async',
      operation: 'txn-status',
      callback: { path: 'registry/txn/on-status', action: 'txn-on-status' },
    });
    expect(endpointFor('crvs', 'registry/sync/txn/status')?.response).toEqual({
      kind: 'envelope',
      action: 'txn-on-status',
      message: 'TxnStatusResponse',
    });
    expect(endpointFor('fr', 'registry/txn/on-status')).toMatchObject({
      action: 'txn-on-status',
      mode: 'callback',
      operation: 'callback',
      implementedBy: 'client',
      messageRequired: 'unless-rjct',
    });
    for (const e of ENDPOINTS) expect(ACTIONS).toContain(e.action);
  });

  it('per-domain schemas: DR search answers one object; other domains a list', () => {
    expect(endpointFor('dr', 'registry/sync/search')?.response).toEqual({
      kind: 'envelope',
      action: 'on-search',
      message: 'DrSearchResponse',
    });
    for (const d of ['social', 'crvs', 'ibr', 'fr'] as const) {
      expect(endpointFor(d, 'registry/sync/search')?.response).toEqual({
        kind: 'envelope',
        action: 'on-search',
        message: 'SearchResponse',
      });
    }
  });

  it('domain coverage follows the brief (§1.4, [C]) plus verify everywhere', () => {
    const paths = (d: (typeof DCI_DOMAINS)[number]) => endpointsFor(d).map((e) => e.path);
    const common = [
      'registry/search',
      'registry/sync/search',
      'registry/on-search',
      'registry/subscribe',
      'registry/on-subscribe',
      'registry/unsubscribe',
      'registry/on-unsubscribe',
      'registry/notify',
      'registry/sync/verify',
    ];
    const txn = ['registry/txn/status', 'registry/sync/txn/status', 'registry/txn/on-status'];
    expect(paths('social').sort()).toEqual([...common, ...txn].sort());
    expect(paths('crvs').sort()).toEqual([...common, ...txn].sort());
    expect(paths('fr').sort()).toEqual([...common, ...txn].sort());
    expect(paths('ibr').sort()).toEqual(
      [...common, ...txn, 'registry/sync/enrolled', 'registry/sync/enrollment/updates'].sort(),
    );
    expect(paths('dr').sort()).toEqual(
      [
        ...common,
        'registry/sync/disabled',
        'registry/sync/get-disability-support',
        'registry/sync/get-disability-details',
        'registry/sync/get-disability-info',
      ].sort(),
    );
  });

  it('operations: extras need search, callbacks need only an active sender', () => {
    for (const d of DCI_DOMAINS) {
      for (const e of endpointsFor(d)) {
        if (e.mode === 'callback') expect(e.operation).toBe('callback');
        else if (
          e.path.startsWith('registry/sync/') &&
          !['registry/sync/search', 'registry/sync/txn/status', 'registry/sync/verify'].includes(e.path)
        ) {
          expect(e.operation).toBe('search');
        }
      }
    }
    expect(endpointFor('ibr', 'registry/sync/enrollment/updates')).toMatchObject({
      action: 'notify',
      requestHeader: 'MsgCallbackHeader',
    });
  });

  it('every schema an endpoint names exists', () => {
    for (const d of DCI_DOMAINS) {
      for (const e of endpointsFor(d)) {
        expect(WIRE_SCHEMA_NAMES).toContain(e.requestMessage);
        if (e.response.kind === 'envelope') expect(WIRE_SCHEMA_NAMES).toContain(e.response.message);
      }
    }
  });
});

describe('validators and messages', () => {
  it('compileValidators compiles once', () => {
    expect(compileValidators()).toBe(validators);
    expect(validators.request(endpointFor('social', 'registry/search')!)).toBe(
      validators.request(endpointFor('crvs', 'registry/search')!),
    );
  });

  it('dotted paths', () => {
    expect(instancePathToDotted('/message/search_request/0/search_criteria/pagination/page_size')).toBe(
      'message.search_request[0].search_criteria.pagination.page_size',
    );
    expect(instancePathToDotted('/a~1b/c~0d', 'message')).toBe('message.a/b.c~d');
    expect(instancePathToDotted('')).toBe('');
  });

  it('describeErrors falls back for empty input and unknown keywords', () => {
    expect(describeErrors(null)).toBe('invalid request');
    expect(
      describeErrors([
        {
          instancePath: '/x',
          schemaPath: '#/x',
          keyword: 'multipleOf',
          params: { multipleOf: 2 },
          message: 'must be multiple of 2',
        },
      ]),
    ).toBe('x must be multiple of 2');
  });

  it('encrypted envelopes are recognised from the header flag', () => {
    expect(
      isEncryptedEnvelope({
        header: {
          message_id: 'm',
          message_ts: 't',
          action: 'search',
          sender_id: 's',
          total_count: 1,
          is_msg_encrypted: true,
        },
      }),
    ).toBe(true);
    expect(
      isEncryptedEnvelope({
        header: { message_id: 'm', message_ts: 't', action: 'search', sender_id: 's', total_count: 1 },
      }),
    ).toBe(false);
  });

  it('normalisers of the 2024 spellings', () => {
    expect(unsubscribeCodes({ transaction_id: 't', timestamp: 'x', sunscription_codes: ['a'] })).toEqual(['a']);
    expect(unsubscribeCodes({ transaction_id: 't', timestamp: 'x', subscription_codes: ['b'] })).toEqual(['b']);
    expect(normalizeTxnType('subscibe')).toBe('subscribe');
    expect(normalizeTxnType('on-search')).toBe('search');
    expect(normalizeTxnType('receipt')).toBe('receipt');
  });

  it('the package index re-exports the wire module', () => {
    expect(typeof protocol.endpointFor).toBe('function');
    expect(typeof protocol.compileValidators).toBe('function');
    expect(protocol.WIRE_SCHEMAS.SearchRequest).toBeDefined();
  });
});
