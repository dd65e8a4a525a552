import { describe, expect, it } from 'vitest';
import {
  type AddressClass,
  classifyAddress,
  formatIPv4,
  isCallableAddress,
  isPublicAddress,
  parseIPv4,
  parseIPv6,
} from './address.js';

const IPV4: [string, AddressClass][] = [
  // unspecified 0.0.0.0/8
  ['0.0.0.0', 'unspecified'],
  ['0.255.255.255', 'unspecified'],
  ['1.0.0.0', 'public'],
  // private 10/8
  ['9.255.255.255', 'public'],
  ['10.0.0.0', 'private'],
  ['10.0.0.5', 'private'],
  ['10.255.255.255', 'private'],
  ['11.0.0.0', 'public'],
  // CGNAT 100.64/10
  ['100.63.255.255', 'public'],
  ['100.64.0.0', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.0', 'public'],
  // loopback 127/8
  ['126.255.255.255', 'public'],
  ['127.0.0.1', 'loopback'],
  ['127.0.0.0', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['128.0.0.0', 'public'],
  // link-local 169.254/16 (cloud metadata lives here)
  ['169.253.255.255', 'public'],
  ['169.254.0.0', 'link-local'],
  ['169.254.169.254', 'link-local'],
  ['169.254.255.255', 'link-local'],
  ['169.255.0.0', 'public'],
  // private 172.16/12
  ['172.15.255.255', 'public'],
  ['172.16.0.0', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  // 192.0.0.0/24, 192.0.2.0/24, 192.88.99.0/24
  ['191.255.255.255', 'public'],
  ['192.0.0.0', 'reserved'],
  ['192.0.0.255', 'reserved'],
  ['192.0.1.0', 'public'],
  ['192.0.2.0', 'documentation'],
  ['192.0.2.255', 'documentation'],
  ['192.0.3.0', 'public'],
  ['192.88.99.1', 'reserved'],
  // private 192.168/16
  ['192.167.255.255', 'public'],
  ['192.168.0.0', 'private'],
  ['192.168.1.1', 'private'],
  ['192.168.255.255', 'private'],
  ['192.169.0.0', 'public'],
  // benchmarking 198.18/15
  ['198.17.255.255', 'public'],
  ['198.18.0.0', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['198.20.0.0', 'public'],
  // TEST-NET-2 and -3
  ['198.51.99.255', 'public'],
  ['198.51.100.0', 'documentation'],
  ['198.51.100.255', 'documentation'],
  ['198.51.101.0', 'public'],
  ['203.0.112.255', 'public'],
  ['203.0.113.0', 'documentation'],
  ['203.0.113.255', 'documentation'],
  ['203.0.114.0', 'public'],
  // multicast 224/4, reserved 240/4, broadcast
  ['223.255.255.255', 'public'],
  ['224.0.0.0', 'multicast'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // public
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['93.184.216.34', 'public'],
  ['192.31.196.1', 'public'],
];

const IPV6: [string, AddressClass][] = [
  ['::', 'unspecified'],
  ['0:0:0:0:0:0:0:0', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['0000:0000:0000:0000:0000:0000:0000:0001', 'loopback'],
  ['[::1]', 'loopback'],
  // IPv4-mapped, dotted and hex
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:7F00:0001', 'loopback'],
  ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
  ['::ffff:10.0.0.5', 'private'],
  ['::ffff:a00:5', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:a9fe:a9fe', 'link-local'],
  ['::ffff:192.168.1.1', 'private'],
  ['::ffff:c0a8:101', 'private'],
  ['::ffff:100.64.0.1', 'cgnat'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:224.0.0.1', 'multicast'],
  ['::ffff:255.255.255.255', 'broadcast'],
  ['::ffff:192.0.2.1', 'documentation'],
  ['::ffff:8.8.8.8', 'public'],
  ['::ffff:808:808', 'public'],
  // IPv4-compatible (deprecated): never public
  ['::127.0.0.1', 'loopback'],
  ['::7f00:1', 'loopback'],
  ['::10.0.0.1', 'private'],
  ['::a00:1', 'private'],
  ['::0.0.0.2', 'unspecified'],
  ['::8.8.8.8', 'reserved'],
  // IPv4-translated (SIIT)
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::ffff:0:a00:1', 'private'],
  ['::ffff:0:8.8.8.8', 'reserved'],
  // NAT64 64:ff9b::/96
  ['64:ff9b::10.0.0.5', 'private'],
  ['64:ff9b::a00:5', 'private'],
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::169.254.169.254', 'link-local'],
  ['64:ff9b::8.8.8.8', 'public'],
  ['64:ff9b::808:808', 'public'],
  ['64:ff9b:1::a00:5', 'private'],
  ['64:ff9b:1::808:808', 'private'],
  // 6to4 2002::/16 (IPv4 in bits 16–47)
  ['2002:a00:5::', 'private'],
  ['2002:0a00:0005:0:0:0:0:1', 'private'],
  ['2002:7f00:1::1', 'loopback'],
  ['2002:a9fe:a9fe::', 'link-local'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:808:808::1', 'public'],
  ['2002::', 'unspecified'],
  // link-local fe80::/10
  ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['fe80::', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['[fe80::1%25eth0]', 'link-local'],
  ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
  ['fec0::1', 'private'],
  // ULA fc00::/7
  ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['fc00::', 'ula'],
  ['fd00::1', 'ula'],
  ['fd12:3456:789a:1::1', 'ula'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ula'],
  // multicast
  ['ff00::', 'multicast'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
  // documentation and reserved
  ['2001:db8::', 'documentation'],
  ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
  ['2001:db9::1', 'public'],
  ['3fff::1', 'documentation'],
  ['3fff:fff:ffff::1', 'documentation'],
  ['3fff:1000::1', 'public'],
  ['2001::1', 'reserved'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
  ['2001:2::1', 'reserved'], // benchmarking
  ['2001:1ff:ffff::1', 'reserved'],
  ['2001:200::1', 'public'],
  ['100::1', 'reserved'],
  ['100::ffff:ffff:ffff:ffff', 'reserved'],
  ['5f00::1', 'reserved'],
  ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['4000::1', 'reserved'],
  ['::2:0:0', 'reserved'],
  // global unicast
  ['2000::', 'public'],
  ['2001:4860:4860::8888', 'public'],
  ['2606:4700:4700::1111', 'public'],
  ['2a00:1450:4001:82a::200e', 'public'],
  ['3ffe::1', 'public'],
  ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'public'],
];

const INVALID = [
  '',
  'localhost',
  'example.org',
  '127.1',
  '127.0.1',
  '0x7f.0.0.1',
  '2130706433',
  '010.0.0.1',
  '127.0.0.01',
  '256.0.0.1',
  '1.2.3.4.5',
  '1.2.3.',
  ' 127.0.0.1',
  '127.0.0.1 ',
  '1::2::3',
  ':::',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7:8::',
  '::1:2:3:4:5:6:7:8',
  '12345::',
  'g::1',
  '::ffff:127.0.0.256',
  '::ffff:127.1',
  '1:2:3:4:5:6:7:1.2.3.4',
  ':1.2.3.4',
  '[::1',
  'fe80::1%',
  '2001:4860::8888%eth0',
];

describe('classifyAddress', () => {
  it.each(IPV4)('IPv4 %s is %s', (ip, expected) => {
    const result = classifyAddress(ip);
    expect(result.family).toBe(4);
    expect(result.class).toBe(expected);
    expect(isPublicAddress(ip)).toBe(expected === 'public');
  });

  it.each(IPV6)('IPv6 %s is %s', (ip, expected) => {
    const result = classifyAddress(ip);
    expect(result.family).toBe(6);
    expect(result.class).toBe(expected);
    expect(isPublicAddress(ip)).toBe(expected === 'public');
  });

  it.each(INVALID)('%j is invalid and not public', (ip) => {
    expect(classifyAddress(ip).class).toBe('invalid');
    expect(isPublicAddress(ip)).toBe(false);
    expect(isCallableAddress(ip, true)).toBe(false);
  });

  it('reports the embedded IPv4 address and the deciding range', () => {
    expect(classifyAddress('::ffff:7f00:1')).toEqual({
      family: 6,
      class: 'loopback',
      embeddedIPv4: '127.0.0.1',
      range: 'IPv4-mapped ::ffff:0:0/96 → 127.0.0.0/8',
    });
    expect(classifyAddress('64:ff9b::a00:5').embeddedIPv4).toBe('10.0.0.5');
    expect(classifyAddress('2002:c0a8:101::1').embeddedIPv4).toBe('192.168.1.1');
    expect(classifyAddress('10.1.2.3')).toEqual({ family: 4, class: 'private', range: '10.0.0.0/8' });
    expect(classifyAddress('8.8.8.8').range).toBe('IPv4 unicast');
  });

  it('agrees with the URL parser on the host forms it produces', () => {
    // URL normalises odd IPv4 spellings; the classifier sees the canonical form.
    for (const [url, expected] of [
      ['http://0x7f.1/', 'loopback'],
      ['http://2130706433/', 'loopback'],
      ['http://0177.0.0.1/', 'loopback'],
      ['http://10.1/', 'private'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://[::ffff:169.254.169.254]/', 'link-local'],
      ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
      ['http://[64:ff9b::10.0.0.5]/', 'private'],
    ] as const) {
      expect(classifyAddress(new URL(url).hostname).class, url).toBe(expected);
    }
  });
});

describe('isCallableAddress', () => {
  it('allows only public addresses by default', () => {
    expect(isCallableAddress('8.8.8.8', false)).toBe(true);
    expect(isCallableAddress('2606:4700:4700::1111', false)).toBe(true);
    for (const ip of ['127.0.0.1', '10.0.0.5', '::1', 'fd00::1', '169.254.169.254', '192.0.2.1']) {
      expect(isCallableAddress(ip, false), ip).toBe(false);
    }
  });

  it('allows loopback and private addresses when insecure, but never unspecified, multicast or broadcast', () => {
    for (const ip of ['127.0.0.1', '10.0.0.5', '::1', 'fd00::1', '::ffff:127.0.0.1', '192.168.1.1']) {
      expect(isCallableAddress(ip, true), ip).toBe(true);
    }
    for (const ip of ['0.0.0.0', '::', '::ffff:0.0.0.0', '224.0.0.1', 'ff02::1', '255.255.255.255', 'nonsense']) {
      expect(isCallableAddress(ip, true), ip).toBe(false);
    }
  });
});

describe('parsers', () => {
  it('parses and formats IPv4', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('192.168.1.2')).toBe(0xc0a80102);
    expect(formatIPv4(0xc0a80102)).toBe('192.168.1.2');
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
  });

  it('parses IPv6 in every notation to the same value', () => {
    const one = parseIPv6('::1');
    expect(one).toBe(1n);
    expect(parseIPv6('0:0:0:0:0:0:0:1')).toBe(one);
    expect(parseIPv6('0::0:1')).toBe(one);
    expect(parseIPv6('::0.0.0.1')).toBe(one);
    expect(parseIPv6('::ffff:1.2.3.4')).toBe(parseIPv6('::ffff:102:304'));
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).toBe(parseIPv6('1:2:3:4:5:6:102:304'));
    expect(parseIPv6('1::')).toBe(1n << 112n);
    expect(parseIPv6('1:2:3:4:5:6:7::')).toBe(parseIPv6('1:2:3:4:5:6:7:0'));
    expect(parseIPv6('::2:3:4:5:6:7:8')).toBe(parseIPv6('0:2:3:4:5:6:7:8'));
    expect(parseIPv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe((1n << 128n) - 1n);
  });
});
