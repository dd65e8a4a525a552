/**
 * One autocannon run of POSTs whose body is made fresh for every request, with the latency of
 * every 2xx response kept (autocannon's summary has p97.5 and p99 but no p95).
 */
import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';
import { percentile, type LoadResult } from './messages.js';

export interface CannonOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  headers?: Record<string, string>;
  /** The body of the next request. */
  body(): string;
  /** Every response with its body (e.g. to read the ACK). */
  onResponse?(status: number, body: string): void;
}

export async function cannon(options: CannonOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const run = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (request) => ({ ...request, body: options.body() }),
        ...(options.onResponse
          ? { onResponse: (status: number, body: string) => options.onResponse!(status, body) }
          : {}),
      },
    ],
  });
  // The tracker emits (client, statusCode, bytes, ms); @types/autocannon leaves the client out.
  (run as unknown as EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await run;
  latencies.sort((a, b) => a - b);
  const statusCodes: Record<string, number> = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]),
  );
  const responses = Object.values(statusCodes).reduce((a, n) => a + n, 0);
  return {
    responses,
    seconds: result.duration,
    rps: Math.round(responses / result.duration),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    p97_5: result.latency.p97_5,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}

/** Reads the JSON spec a load generator gets in the environment variable `name`. */
export function specFrom<T>(name: string): T {
  const text = process.env[name];
  if (!text) throw new Error(`${name} is not set`);
  return JSON.parse(text) as T;
}
