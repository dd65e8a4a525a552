/**
 * The two canonical JSON forms the signing profile digests (docs/signing.md).
 *
 * - `jcs`: RFC 8785 (JSON Canonicalization Scheme), the OpenDCI default. UTF-8, keys sorted by
 *   UTF-16 code units, ECMAScript number and string serialisation.
 * - `openspp`: what OpenSPP hashes, Python's
 *   `json.dumps(obj, sort_keys=True, separators=(",", ":"))` with its default `ensure_ascii=True`:
 *   keys sorted by code point, every non-ASCII UTF-16 unit (and DEL) escaped as lower-case
 *   `\uXXXX` (astral characters therefore as surrogate pairs), `/` not escaped.
 *
 * Limit of the OpenSPP form: it is computed from parsed JSON, so number spellings that Python
 * keeps but JavaScript has already lost are out of scope. A JSON integer is emitted with all its
 * digits (as Python's `int` would be, exact up to 2^53); any other number uses the ECMAScript
 * spelling, which differs from Python's `float.__repr__` for e.g. `1.0` (Python `1.0`, here `1`),
 * `1e16` (Python `1e+16`) or `1e-7` (Python `1e-07`). DCI messages carry identifiers and counts as
 * strings and integers, so this does not arise in practice.
 */
import canonicalize from 'canonicalize';

export type CanonicalForm = 'jcs' | 'openspp';

export const CANONICAL_FORMS: readonly CanonicalForm[] = ['jcs', 'openspp'];

/** RFC 8785 canonical JSON. Throws a `TypeError`/`Error` for values JSON cannot represent. */
export function jcs(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('value has no JSON representation');
  return out;
}

/** The canonical string of `value` in the given form. */
export function canonicalJson(value: unknown, form: CanonicalForm): string {
  return form === 'jcs' ? jcs(value) : opensppCanonical(value);
}

/**
 * Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))` (ensure_ascii=True).
 * The result is pure ASCII.
 */
export function opensppCanonical(value: unknown): string {
  const out = serialize(value, new Set());
  if (out === undefined) throw new TypeError('value has no JSON representation');
  return out;
}

/**
 * Orders strings by Unicode code point, as Python sorts `str` (lone surrogates count as their own
 * code point, like in Python). Differs from JavaScript's default UTF-16 order only when a
 * character above U+FFFF is compared with one in U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  // Neither unit is a surrogate: they are the differing code points themselves.
  if ((x < 0xd800 || x > 0xdfff) && (y < 0xd800 || y > 0xdfff)) return x - y;
  // Surrogates involved: compare whole code points from the start of the current character.
  let k = i;
  if (k > 0) {
    const prev = a.charCodeAt(k - 1);
    if (prev >= 0xd800 && prev <= 0xdbff) k--;
  }
  while (k < a.length && k < b.length) {
    const cx = a.codePointAt(k) as number;
    const cy = b.codePointAt(k) as number;
    if (cx !== cy) return cx - cy;
    k += cx > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

// Characters Python's ensure_ascii output keeps as they are: ' '..'~' except '"' and '\'.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quote(s: string): string {
  if (PLAIN_ASCII.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    if (i > start) out += s.slice(start, i);
    start = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      default:
        // Control characters, DEL and everything non-ASCII, one UTF-16 unit at a time: this is
        // exactly Python's surrogate-pair output for characters above U+FFFF.
        out += '\\u' + c.toString(16).padStart(4, '0');
    }
  }
  if (start < s.length) out += s.slice(start);
  return out + '"';
}

function number(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`${n} has no JSON representation`);
  if (Number.isInteger(n)) {
    // All digits, like a Python int (String() switches to exponent notation from 1e21 on).
    return Math.abs(n) < 1e21 ? String(n === 0 ? 0 : n) : BigInt(n).toString();
  }
  return String(n);
}

function serialize(value: unknown, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return number(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return serialize((obj as { toJSON: () => unknown }).toJSON(), seen);
  }
  if (seen.has(obj)) throw new TypeError('circular reference');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out += ',';
      out += serialize(obj[i] as unknown, seen) ?? 'null';
    }
    out += ']';
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record).sort(compareCodePoints);
    out = '{';
    let first = true;
    for (const key of keys) {
      const v = serialize(record[key], seen);
      if (v === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += quote(key) + ':' + v;
    }
    out += '}';
  }
  seen.delete(obj);
  return out;
}
