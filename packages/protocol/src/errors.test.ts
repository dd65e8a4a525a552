import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DciError,
  ERROR_CATALOG,
  ERROR_CODES,
  ErrorCode,
  HEADER_STATUS_REASON_CODES,
  REASON_CODES,
  SEARCH_STATUS_REASON_CODES,
  SUBSCRIBE_STATUS_REASON_CODES,
  UNSUBSCRIBE_STATUS_REASON_CODES,
  errorStatus,
  isDciError,
  isErrorCode,
  isHeaderStatusReasonCode,
  isReasonCode,
  isSearchStatusReasonCode,
  isSubscribeStatusReasonCode,
  isUnsubscribeStatusReasonCode,
} from './errors.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const sharedDir = path.resolve(repoRoot, process.env.DCI_SHARED_DIR ?? '../shared');
const specDir = path.join(sharedDir, 'spec', 'latest');
const specFiles = existsSync(specDir) ? readdirSync(specDir).filter((f) => f.endsWith('.yaml')) : [];

/** The enum list following `anchors` (successive `name:` lines) in an OpenAPI YAML text. */
function enumAfter(text: string, anchors: string[]): string[] | undefined {
  const lines = text.split('\n');
  let i = 0;
  for (const anchor of anchors) {
    while (i < lines.length && !new RegExp(`^\\s*${anchor}:\\s*$`).test(lines[i] as string)) i++;
    if (i >= lines.length) return undefined;
    i++;
  }
  while (i < lines.length && !/^\s*enum:\s*$/.test(lines[i] as string)) i++;
  const values: string[] = [];
  for (i++; i < lines.length; i++) {
    const m = /^\s*-\s+['"]?([^'"\s]+)['"]?\s*$/.exec(lines[i] as string);
    if (!m) break;
    values.push(m[1] as string);
  }
  return values;
}

describe('error catalog', () => {
  it('maps every code to the status of contract.md §4', () => {
    expect(Object.fromEntries(ERROR_CODES.map((c) => [c, errorStatus(c)]))).toEqual({
      'err.request.bad': 400,
      'err.request.unauthorized': 401,
      'err.request.forbidden': 403,
      'err.request.not_found': 404,
      'err.request.timeout': 408,
      'err.version.not_supported': 400,
      'err.request.too_many_requests': 429,
      'err.sender_id.invalid': 403,
      'err.sender_uri.invalid': 400,
      'err.receiver_id.invalid': 400,
      'err.signature.missing': 401,
      'err.signature.invalid': 401,
      'err.encryption.invalid': 400,
      'err.service.unavailable': 503,
    });
    expect(Object.keys(ERROR_CATALOG).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('recognises codes', () => {
    expect(isErrorCode('err.signature.invalid')).toBe(true);
    expect(isErrorCode('err.request.invalid')).toBe(false); // the compliance mock's, not the spec's
    expect(isErrorCode('err.server')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
    expect(isSearchStatusReasonCode('rjct.search.too_many_records_found')).toBe(true);
    expect(isSearchStatusReasonCode('rjct.notify_types.invalid')).toBe(false);
    expect(isSubscribeStatusReasonCode('rjct.notify_types.invalid')).toBe(true);
    expect(isUnsubscribeStatusReasonCode('rjct.subscription_code.invalid')).toBe(true);
    expect(isHeaderStatusReasonCode('rjct.message_id.duplicate')).toBe(true);
    expect(isReasonCode('rjct.message_id.duplicate')).toBe(true);
    expect(isReasonCode('rjct.record.not_found')).toBe(false);
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
  });
});

describe.skipIf(specFiles.length === 0)('catalog = the spec enums', () => {
  it.each(specFiles)('%s', (file) => {
    const text = readFileSync(path.join(specDir, file), 'utf8');
    expect(enumAfter(text, ['Error', 'code'])).toEqual([...ERROR_CODES]);
    expect(enumAfter(text, ['SearchStatusReasonCode'])).toEqual([...SEARCH_STATUS_REASON_CODES]);
    expect(enumAfter(text, ['SubscribeStatusReasonCode'])).toEqual([...SUBSCRIBE_STATUS_REASON_CODES]);
    expect(enumAfter(text, ['UnSubscribeStatusReasonCode'])).toEqual([...UNSUBSCRIBE_STATUS_REASON_CODES]);
    const header = enumAfter(text, ['MsgHeaderStatusReasonCode']);
    if (header) expect(header).toEqual([...HEADER_STATUS_REASON_CODES]);
    // Every rjct.* / err.* string anywhere in the file is in the catalog.
    for (const m of text.matchAll(/\b(err|rjct)\.[a-z_]+\.[a-z_]+/g)) {
      expect(isErrorCode(m[0]) || isReasonCode(m[0]), m[0]).toBe(true);
    }
  });
});

describe('DciError', () => {
  it('takes its status from the catalog', () => {
    const e = new DciError(ErrorCode.SignatureInvalid, 'signature expired', { detail: 'expired' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DciError');
    expect(e.code).toBe('err.signature.invalid');
    expect(e.status).toBe(401);
    expect(e.detail).toBe('expired');
    expect(e.message).toBe('signature expired');
    expect(e.expose).toBe(true);
    expect(isDciError(e)).toBe(true);
  });

  it('lets the status be overridden (replay 409, too large 413, media type 415)', () => {
    expect(new DciError(ErrorCode.RequestBad, 'replayed message_id', { status: 409 }).status).toBe(409);
    expect(new DciError(ErrorCode.RequestBad, 'too large', { status: 413 }).status).toBe(413);
    expect(new DciError(ErrorCode.RequestBad, 'unsupported media type', { status: 415 }).status).toBe(415);
    const internal = new DciError(ErrorCode.ServiceUnavailable, 'boom', { status: 500, cause: new Error('db') });
    expect(internal.status).toBe(500);
    expect(internal.expose).toBe(false);
    expect((internal.cause as Error).message).toBe('db');
    expect(new DciError(ErrorCode.ServiceUnavailable, 'down').status).toBe(503);
  });

  it('isDciError rejects other values and accepts a foreign copy', () => {
    expect(isDciError(new Error('x'))).toBe(false);
    expect(isDciError({ code: 'err.request.bad', status: 400 })).toBe(false);
    expect(isDciError(null)).toBe(false);
    const foreign = Object.assign(new Error('x'), { name: 'DciError', code: 'err.request.bad', status: 400 });
    expect(isDciError(foreign)).toBe(true);
    const bogus = Object.assign(new Error('x'), { name: 'DciError', code: 'err.server', status: 500 });
    expect(isDciError(bogus)).toBe(false);
  });
});
