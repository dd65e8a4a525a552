/**
 * Refusals happen before any connection: undici is replaced by fakes that record every Agent and
 * request, so a bug here sends nothing anywhere (no traffic ever leaves for 10.0.0.5 & co).
 */
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type HostLookup, OutboundError, postJson } from './outbound.js';

const fake = vi.hoisted(() => {
  const agents: { options: { connect?: { lookup?: unknown; timeout?: number } } }[] = [];
  class Agent {
    constructor(readonly options: { connect?: { lookup?: unknown; timeout?: number } }) {
      agents.push(this);
    }
    destroy(): Promise<void> {
      return Promise.resolve();
    }
  }
  const request = vi.fn(() => Promise.reject(Object.assign(new Error('fake: no network'), { code: 'ECONNREFUSED' })));
  return { agents, Agent, request };
});

vi.mock('undici', () => ({ Agent: fake.Agent, request: fake.request }));

function lookupOf(...addresses: string[]): HostLookup & ReturnType<typeof vi.fn> {
  return vi.fn(async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
}

async function refusal(promise: Promise<unknown>): Promise<OutboundError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutboundError);
  return error as OutboundError;
}

function expectNoConnection(): void {
  expect(fake.agents).toHaveLength(0);
  expect(fake.request).not.toHaveBeenCalled();
}

afterEach(() => {
  fake.agents.length = 0;
  fake.request.mockClear();
});

describe('postJson refuses before connecting', () => {
  it('refuses a host name that resolves to a private address', async () => {
    const lookup = lookupOf('10.0.0.5');
    const error = await refusal(
      postJson('https://callback.example.org/dci/on-search', { a: 1 }, { allowInsecure: false, lookup }),
    );
    expect(error.kind).toBe('refused');
    expect(error.message).toContain('10.0.0.5 is a private address');
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(lookup).toHaveBeenCalledWith('callback.example.org');
    expectNoConnection();
  });

  it.each([
    [['93.184.216.34', '10.0.0.5']],
    [['10.0.0.5', '93.184.216.34']],
    [['2606:4700:4700::1111', 'fd00::1']],
    [['::ffff:10.0.0.5']],
    [['::ffff:a00:5']],
    [['64:ff9b::a9fe:a9fe']],
    [['2002:a00:5::1']],
    [['fe80::1']],
    [['169.254.169.254']],
    [['100.64.0.1']],
    [['127.0.0.1']],
    [['::1']],
    [['0.0.0.0']],
    [['192.0.2.10']],
    [['not-an-address']],
  ])('refuses when any resolved address is not public: %j', async (addresses) => {
    const error = await refusal(
      postJson('https://callback.example.org/cb', {}, { allowInsecure: false, lookup: lookupOf(...addresses) }),
    );
    expect(error.kind).toBe('refused');
    expectNoConnection();
  });

  it.each([
    'https://10.0.0.5/cb',
    'https://127.0.0.1/cb',
    'https://0x7f.1/cb',
    'https://2130706433/cb',
    'https://[::1]/cb',
    'https://[::ffff:7f00:1]/cb',
    'https://[::ffff:10.0.0.5]/cb',
    'https://[fd00::1]/cb',
    'https://169.254.169.254/latest/meta-data',
    'https://localhost/cb',
    'https://api.localhost./cb',
    'http://callback.example.org/cb',
    'https://user:pw@callback.example.org/cb',
    'ftp://callback.example.org/cb',
    'file:///etc/passwd',
    'callback.example.org/cb',
    'https://callback.example.org/c b',
  ])('refuses %s without resolving or connecting', async (url) => {
    const lookup = lookupOf('93.184.216.34');
    const error = await refusal(postJson(url, {}, { allowInsecure: false, lookup }));
    expect(error.kind).toBe('refused');
    expect(lookup).not.toHaveBeenCalled();
    expectNoConnection();
  });

  it('still refuses unspecified, multicast and broadcast targets when insecure', async () => {
    for (const address of ['0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255']) {
      const error = await refusal(
        postJson('http://callback.example.org/cb', {}, { allowInsecure: true, lookup: lookupOf(address) }),
      );
      expect(error.kind, address).toBe('refused');
    }
    const literal = await refusal(postJson('http://0.0.0.0:8080/cb', {}, { allowInsecure: true }));
    expect(literal.kind).toBe('refused');
    expectNoConnection();
  });

  it('reports a failed or empty resolution as a network error, without connecting', async () => {
    const failing: HostLookup = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' }));
    const error = await refusal(postJson('https://nowhere.invalid/cb', {}, { allowInsecure: false, lookup: failing }));
    expect(error.kind).toBe('network');
    expect(error.message).toContain('ENOTFOUND');
    const empty = await refusal(
      postJson('https://nowhere.invalid/cb', {}, { allowInsecure: false, lookup: lookupOf() }),
    );
    expect(empty.kind).toBe('network');
    expectNoConnection();
  });

  it('times out a resolution that does not answer, without connecting', async () => {
    const hanging: HostLookup = () => new Promise(() => undefined);
    const started = Date.now();
    const error = await refusal(
      postJson('https://slow-dns.invalid/cb', {}, { allowInsecure: false, lookup: hanging, timeoutMs: 100 }),
    );
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    expectNoConnection();
  });
});

describe('postJson pins the vetted addresses', () => {
  function pinned(): LookupFunction {
    expect(fake.agents).toHaveLength(1);
    const lookup = fake.agents[0]!.options.connect?.lookup;
    expect(typeof lookup).toBe('function');
    return lookup as LookupFunction;
  }

  function ask(
    lookup: LookupFunction,
    host: string,
    options: { all?: boolean; family?: number },
  ): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }> {
    return new Promise((resolve) => {
      lookup(host, options, (error, address, family) => resolve({ error, address, family }));
    });
  }

  it('gives the connector exactly the vetted addresses, for the URL host only', async () => {
    const lookup = lookupOf('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946');
    const error = await refusal(postJson('https://callback.example.org/cb', {}, { allowInsecure: false, lookup }));
    expect(error.kind).toBe('network'); // the fake request fails after the agent was built
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(fake.request).toHaveBeenCalledTimes(1);
    const connectorLookup = pinned();

    expect(await ask(connectorLookup, 'callback.example.org', { all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
      family: undefined,
    });
    expect(await ask(connectorLookup, 'callback.example.org', {})).toMatchObject({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
    expect(await ask(connectorLookup, 'callback.example.org', { family: 6 })).toMatchObject({
      address: '2606:2800:220:1:248:1893:25c8:1946',
      family: 6,
    });
    const other = await ask(connectorLookup, 'evil.example.org', { all: true });
    expect(other.error?.code).toBe('ENOTFOUND');
    // Still one lookup: the connector never resolves the name again.
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('bounds the connect phase by the timeout', async () => {
    await refusal(
      postJson(
        'https://callback.example.org/cb',
        {},
        { allowInsecure: false, lookup: lookupOf('93.184.216.34'), timeoutMs: 1234 },
      ),
    );
    expect(fake.agents[0]!.options.connect?.timeout).toBe(1234);
  });
});
