/**
 * Load generator for sync search, run in its own process (pinned with taskset by the caller).
 * Every request gets a fresh message_id (replay protection) and, when signing, a fresh signature,
 * made here in the client. Prints the autocannon summary as JSON.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import {
  requestHeader,
  searchRequestMessage,
  signMessage,
  type SearchCriteria,
} from '../packages/protocol/src/index.js';

const url = process.env.LOAD_URL!;
const token = process.env.LOAD_TOKEN!;
const senderId = process.env.LOAD_SENDER!;
const signed = process.env.LOAD_SIGNED === '1';
const kid = process.env.LOAD_KID ?? '';
const privateKey = signed ? createPrivateKey(process.env.LOAD_PRIVATE_KEY!) : undefined;
const values = (process.env.LOAD_VALUES ?? '').split(',').filter(Boolean);
const duration = Number(process.env.LOAD_DURATION ?? 10);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 16);

let n = 0;
function body(): string {
  const value = values[n++ % values.length]!;
  const criteria = {
    version: '1.0.0',
    reg_record_type: 'Member',
    query_type: 'idtype-value',
    query: { type: 'UIN', value },
  } as SearchCriteria;
  const message = searchRequestMessage({ items: [{ criteria }] });
  const header = requestHeader({ action: 'search', senderId, totalCount: 1, messageId: randomUUID() });
  const envelope = { header, message };
  if (!privateKey) return JSON.stringify({ signature: 'unsigned', ...envelope });
  return JSON.stringify({ signature: signMessage(envelope, { senderId, kid, privateKey }), ...envelope });
}

const result = await autocannon({
  url,
  connections,
  duration,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      setupRequest: (request) => ({ ...request, body: body() }),
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    requests: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }),
);
