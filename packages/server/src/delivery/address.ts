/**
 * Classification of IP addresses for outbound calls (architecture §7): only `public` addresses
 * are callback targets unless `DCI_ALLOW_INSECURE_CALLBACKS` is set. The tables follow the IANA
 * IPv4 and IPv6 special-purpose address registries; IPv6 forms that carry an IPv4 address
 * (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by
 * that address too, so `::ffff:127.0.0.1`, `::ffff:7f00:1` or `2002:0a00:0001::` are not public.
 * IPv6 is public only inside the global unicast block 2000::/3 (minus its special ranges) or
 * through an embedded public IPv4 address (mapped, NAT64, 6to4); anything unassigned is `reserved`.
 * Parsing is strict: only canonical dotted-decimal IPv4 (no leading zeros, no short forms) and
 * RFC 4291 IPv6 text; anything else is `invalid` and never public.
 */

/** What an address is, for the purpose of deciding whether it may be called. */
export type AddressClass =
  | 'public'
  /** 0.0.0.0/8, `::`. */
  | 'unspecified'
  /** 127.0.0.0/8, `::1`. */
  | 'loopback'
  /** 10/8, 172.16/12, 192.168/16; fec0::/10 (deprecated site-local); 64:ff9b:1::/48 (local-use NAT64). */
  | 'private'
  /** 169.254/16, fe80::/10. */
  | 'link-local'
  /** 100.64.0.0/10 (carrier-grade NAT, RFC 6598). */
  | 'cgnat'
  /** fc00::/7 (unique local, RFC 4193). */
  | 'ula'
  /** 224.0.0.0/4, ff00::/8. */
  | 'multicast'
  /** 255.255.255.255. */
  | 'broadcast'
  /** 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20. */
  | 'documentation'
  /** Other special-purpose or unassigned ranges (192.0.0/24, 198.18/15, 240/4, 2001::/23, 100::/64, …). */
  | 'reserved'
  /** Not an IP address in canonical text form. */
  | 'invalid';

export interface AddressClassification {
  /** 4 or 6; 0 for `invalid`. */
  family: 0 | 4 | 6;
  class: AddressClass;
  /** The range that decided, e.g. `10.0.0.0/8` or `IPv4-mapped ::ffff:0:0/96 → 127.0.0.0/8`. */
  range: string;
  /** For IPv6 forms that carry an IPv4 address: that address (dotted). */
  embeddedIPv4?: string;
}

interface Range<T extends number | bigint> {
  base: T;
  bits: number;
  cidr: string;
  class: AddressClass;
}

// ---------------------------------------------------------------------------------------------
// IPv4

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

/** Parses canonical dotted-decimal IPv4 (`a.b.c.d`, 0–255, no leading zeros) to a 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Formats a 32-bit number as dotted-decimal IPv4. */
export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function v4Range(cidr: string, cls: AddressClass): Range<number> {
  const [address, bits] = cidr.split('/') as [string, string];
  return { base: parseIPv4(address)!, bits: Number(bits), cidr, class: cls };
}

/** First match wins: 255.255.255.255 is `broadcast` before 240/4 makes it `reserved`. */
const IPV4_RANGES: readonly Range<number>[] = [
  v4Range('0.0.0.0/8', 'unspecified'),
  v4Range('10.0.0.0/8', 'private'),
  v4Range('100.64.0.0/10', 'cgnat'),
  v4Range('127.0.0.0/8', 'loopback'),
  v4Range('169.254.0.0/16', 'link-local'),
  v4Range('172.16.0.0/12', 'private'),
  v4Range('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  v4Range('192.0.2.0/24', 'documentation'), // TEST-NET-1
  v4Range('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  v4Range('192.168.0.0/16', 'private'),
  v4Range('198.18.0.0/15', 'reserved'), // benchmarking
  v4Range('198.51.100.0/24', 'documentation'), // TEST-NET-2
  v4Range('203.0.113.0/24', 'documentation'), // TEST-NET-3
  v4Range('224.0.0.0/4', 'multicast'),
  v4Range('255.255.255.255/32', 'broadcast'),
  v4Range('240.0.0.0/4', 'reserved'), // future use
];

function inV4Range(value: number, range: Range<number>): boolean {
  if (range.bits === 0) return true;
  const shift = 32 - range.bits;
  return value >>> shift === range.base >>> shift;
}

function classifyV4(value: number): { class: AddressClass; range: string } {
  const range = IPV4_RANGES.find((r) => inV4Range(value, r));
  return range ? { class: range.class, range: range.cidr } : { class: 'public', range: 'IPv4 unicast' };
}

// ---------------------------------------------------------------------------------------------
// IPv6

const HEXTET = /^[0-9A-Fa-f]{1,4}$/;

/** Parses RFC 4291 IPv6 text (`::` compression, trailing dotted IPv4; no zone) to a 128-bit bigint. */
export function parseIPv6(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  let body = text;
  let tail: number[] = [];
  // A trailing dotted IPv4 address takes the last two hextets.
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && body.includes('.', lastColon)) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    body = body.slice(0, lastColon + 1);
    // `::1.2.3.4` leaves `::`; `a:b::1.2.3.4` leaves `a:b::`; `a:b:c:d:e:f:1.2.3.4` leaves `…f:`.
    if (!body.endsWith('::')) body = body.slice(0, -1);
    if (body === '') return undefined;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string): string[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    return groups.every((g) => HEXTET.test(g)) ? groups : undefined;
  };
  const head = split(halves[0]!);
  const rest = halves.length === 2 ? split(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined; // `::` stands for at least one zero group
    groups = [
      ...head.map((g) => parseInt(g, 16)),
      ...(new Array(8 - given).fill(0) as number[]),
      ...rest.map((g) => parseInt(g, 16)),
      ...tail,
    ];
  } else {
    if (given !== 8) return undefined;
    groups = [...head.map((g) => parseInt(g, 16)), ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function v6Range(cidr: string, cls: AddressClass): Range<bigint> {
  const [address, bits] = cidr.split('/') as [string, string];
  return { base: parseIPv6(address)!, bits: Number(bits), cidr, class: cls };
}

function inV6Range(value: bigint, range: Range<bigint>): boolean {
  const shift = BigInt(128 - range.bits);
  return value >> shift === range.base >> shift;
}

/** Embeds an IPv4 address: judged by the IPv4 address; `ifPublic` when that one is public. */
interface EmbeddingRange extends Range<bigint> {
  name: string;
  /** Bit offset of the IPv4 address from the least significant end. */
  shift: bigint;
  ifPublic: AddressClass;
}

function embedding(name: string, cidr: string, shift: number, ifPublic: AddressClass): EmbeddingRange {
  return { ...v6Range(cidr, 'reserved'), name, shift: BigInt(shift), ifPublic };
}

const UNSPECIFIED_V6 = v6Range('::/128', 'unspecified');
const LOOPBACK_V6 = v6Range('::1/128', 'loopback');

/** Checked in order after `::` and `::1`; the most specific ranges come first. */
const IPV6_EMBEDDINGS: readonly EmbeddingRange[] = [
  embedding('IPv4-mapped', '::ffff:0:0/96', 0, 'public'),
  // SIIT IPv4-translated (RFC 2765) and IPv4-compatible (deprecated, RFC 4291 §2.5.5.1): not
  // routed as such, so never public, but reported by their IPv4 address when that one is local.
  embedding('IPv4-translated', '::ffff:0:0:0/96', 0, 'reserved'),
  embedding('IPv4-compatible', '::/96', 0, 'reserved'),
  embedding('NAT64', '64:ff9b::/96', 0, 'public'),
  embedding('6to4', '2002::/16', 80, 'public'),
];

const IPV6_RANGES: readonly Range<bigint>[] = [
  v6Range('64:ff9b:1::/48', 'private'), // local-use NAT64 (RFC 8215)
  v6Range('100::/64', 'reserved'), // discard-only
  v6Range('2001::/23', 'reserved'), // IETF protocol assignments, Teredo, benchmarking, ORCHID
  v6Range('2001:db8::/32', 'documentation'),
  v6Range('3fff::/20', 'documentation'), // RFC 9637
  v6Range('5f00::/16', 'reserved'), // SRv6 SIDs
  v6Range('fc00::/7', 'ula'),
  v6Range('fe80::/10', 'link-local'),
  v6Range('fec0::/10', 'private'), // deprecated site-local
  v6Range('ff00::/8', 'multicast'),
];

const GLOBAL_UNICAST_V6 = v6Range('2000::/3', 'public');

function classifyV6(value: bigint): Omit<AddressClassification, 'family'> {
  if (value === UNSPECIFIED_V6.base) return { class: 'unspecified', range: '::/128' };
  if (value === LOOPBACK_V6.base) return { class: 'loopback', range: '::1/128' };
  for (const e of IPV6_EMBEDDINGS) {
    if (!inV6Range(value, e)) continue;
    const v4 = Number((value >> e.shift) & 0xffffffffn);
    const inner = classifyV4(v4);
    const embeddedIPv4 = formatIPv4(v4);
    const range = `${e.name} ${e.cidr} → ${inner.range}`;
    return { class: inner.class === 'public' ? e.ifPublic : inner.class, range, embeddedIPv4 };
  }
  const range = IPV6_RANGES.find((r) => inV6Range(value, r));
  if (range) return { class: range.class, range: range.cidr };
  if (inV6Range(value, GLOBAL_UNICAST_V6)) return { class: 'public', range: GLOBAL_UNICAST_V6.cidr };
  return { class: 'reserved', range: 'unassigned (outside 2000::/3)' };
}

// ---------------------------------------------------------------------------------------------
// The API

/**
 * Classifies an IP address given as text: dotted IPv4, or IPv6 with or without brackets and zone
 * (`[fe80::1]`, `fe80::1%eth0`). A zone makes a public-looking address `invalid` (zones only mean
 * something for link-local scopes).
 */
export function classifyAddress(ip: string): AddressClassification {
  let text = typeof ip === 'string' ? ip : '';
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, ...classifyV4(v4) };
  const zone = text.indexOf('%');
  const zoned = zone >= 0;
  if (zoned) {
    if (zone === text.length - 1) return { family: 0, class: 'invalid', range: 'empty zone' };
    text = text.slice(0, zone);
  }
  const v6 = parseIPv6(text);
  if (v6 === undefined) return { family: 0, class: 'invalid', range: 'not an IP address' };
  const result = classifyV6(v6);
  if (zoned && result.class === 'public') return { family: 6, class: 'invalid', range: 'zone on a global address' };
  return { family: 6, ...result };
}

/** True for an address a production server may call: globally routable unicast, nothing special. */
export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip).class === 'public';
}

/**
 * Classes that are never a callback target, not even with `DCI_ALLOW_INSECURE_CALLBACKS`:
 * `0.0.0.0`/`::` reach the local host, and multicast/broadcast/invalid are no TCP peers.
 */
export const NEVER_CALLABLE: ReadonlySet<AddressClass> = new Set<AddressClass>([
  'unspecified',
  'multicast',
  'broadcast',
  'invalid',
]);

/** Whether an outbound call may go to `ip`: public, or (with `allowInsecure`) anything but NEVER_CALLABLE. */
export function isCallableAddress(ip: string, allowInsecure: boolean): boolean {
  const cls = classifyAddress(ip).class;
  return cls === 'public' || (allowInsecure && !NEVER_CALLABLE.has(cls));
}
