/**
 * npm run bench -- signing — what signatures cost.
 *  1. Per message, on one core: sign and verify (Ed25519, RSA-2048) of a search-sized envelope,
 *     digest over its JCS canonical form included.
 *  2. The overhead on a sync call: the same idtype-value search answered by the server on
 *     PostgreSQL (2,000 generated households), from a load generator in a second process pinned to
 *     core 1, once with every request signed (verified by the server) and once unsigned (policy
 *     optional). The answer is signed in both runs.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  jwkThumbprint,
  requestHeader,
  searchRequestMessage,
  signMessage,
  verifyMessage,
} from '../packages/protocol/src/index.js';
import {
  buildApp,
  importRows,
  generatedRows,
  loadConfig,
  openDatabase,
  migrateToLatest,
} from '../packages/server/src/index.js';
import { freshPostgresDatabase, machine, writeSection } from './lib.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 15);

function envelope() {
  const items = Array.from({ length: 3 }, (_, i) => ({
    referenceId: `ref-${i}`,
    criteria: {
      version: '1.0.0',
      reg_type: 'ns:org:RegistryType:Social',
      reg_record_type: 'Member',
      query_type: 'idtype-value' as const,
      query: { type: 'UIN', value: `10000000${i}` },
      sort: [{ attribute_name: 'registration_date', sort_order: 'desc' }],
      pagination: { page_size: 10, page_number: 1 },
    },
  }));
  const message = searchRequestMessage({ transactionId: 'bench-txn', items });
  const header = requestHeader({
    action: 'search',
    senderId: 'bench-client',
    totalCount: 3,
    receiverId: 'opendci',
    senderUri: 'https://spmis.example.org/registry/on-search',
  });
  return { header, message };
}

function micro(algorithm: 'ed25519' | 'rsa-sha256') {
  const { privateKey, publicKey } =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = jwkThumbprint(publicKey);
  const env = envelope();
  const size = JSON.stringify(env).length;
  const options = { senderId: 'bench-client', kid, privateKey };
  for (let i = 0; i < 200; i++)
    verifyMessage({ ...env, signature: signMessage(env, options) }, { resolveKey: () => publicKey });
  const runs = algorithm === 'ed25519' ? 5000 : 1000;
  let t = process.hrtime.bigint();
  let signature = '';
  for (let i = 0; i < runs; i++) signature = signMessage(env, options);
  const signUs = Number(process.hrtime.bigint() - t) / 1e3 / runs;
  t = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) verifyMessage({ ...env, signature }, { resolveKey: () => publicKey });
  const verifyUs = Number(process.hrtime.bigint() - t) / 1e3 / runs;
  return { algorithm, size, signUs, verifyUs };
}

interface Load {
  requests: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function load(env: Record<string, string>): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'taskset',
      ['-c', '1', process.execPath, '--import', 'tsx', fileURLToPath(new URL('./load-search.ts', import.meta.url))],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Load) : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

const results = [micro('ed25519'), micro('rsa-sha256')];
for (const r of results)
  console.log(
    `${r.algorithm}: ${r.size} B envelope, sign ${r.signUs.toFixed(0)} µs, verify ${r.verifyUs.toFixed(0)} µs`,
  );

// --- the sync call ---------------------------------------------------------------------------
const databaseUrl = await freshPostgresDatabase('opendci_bench_signing');
const database = await openDatabase(databaseUrl);
await migrateToLatest(database.db);
await importRows(database, generatedRows(2000, 'bench'));
const values = (
  await database.db.selectFrom('identifier').select('id_value').where('id_type', '=', 'UIN').limit(2000).execute()
).map((r) => r.id_value);

const config = loadConfig({
  LOG_LEVEL: 'silent',
  DATABASE_URL: databaseUrl,
  PORT: '0',
  DCI_AUDIT_PAYLOADS: 'redacted',
});
const app = await buildApp(config, { database, logger: false });
const keys = generateKeyPairSync('ed25519');
const kid = jwkThumbprint(keys.publicKey);
await app.senders.add({
  id: 'bench-signed',
  clientSecret: 'bench-secret',
  keys: [{ pem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
});
await app.senders.add({ id: 'bench-unsigned', clientSecret: 'bench-secret', signaturePolicy: 'optional' });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address() as { port: number };
const base = `http://127.0.0.1:${address.port}`;
const token = async (id: string) =>
  (await app.tokens.issue({ clientId: id, clientSecret: 'bench-secret', grantType: 'client_credentials' }))
    .access_token;
const common = {
  LOAD_URL: `${base}/registry/sync/search`,
  LOAD_VALUES: values.join(','),
  LOAD_DURATION: String(DURATION),
  LOAD_CONNECTIONS: '16',
};
const runUnsigned = async () =>
  load({ ...common, LOAD_TOKEN: await token('bench-unsigned'), LOAD_SENDER: 'bench-unsigned', LOAD_SIGNED: '0' });
const runSigned = async () =>
  load({
    ...common,
    LOAD_TOKEN: await token('bench-signed'),
    LOAD_SENDER: 'bench-signed',
    LOAD_SIGNED: '1',
    LOAD_KID: kid,
    LOAD_PRIVATE_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  });
// Warm-up, then the two kinds alternated twice (ABBA) so that neither profits from running later.
await load({
  ...common,
  LOAD_DURATION: '5',
  LOAD_TOKEN: await token('bench-unsigned'),
  LOAD_SENDER: 'bench-unsigned',
  LOAD_SIGNED: '0',
});
const runs: Load[][] = [[], []];
runs[0]!.push(await runUnsigned());
runs[1]!.push(await runSigned());
runs[1]!.push(await runSigned());
runs[0]!.push(await runUnsigned());
const mean = (list: Load[]): Load => ({
  requests: list.reduce((a, r) => a + r.requests, 0) / list.length,
  total: list.reduce((a, r) => a + r.total, 0),
  p50: list.reduce((a, r) => a + r.p50, 0) / list.length,
  p99: list.reduce((a, r) => a + r.p99, 0) / list.length,
  non2xx: list.reduce((a, r) => a + r.non2xx, 0),
  errors: list.reduce((a, r) => a + r.errors, 0),
});
const unsigned = mean(runs[0]!);
const signed = mean(runs[1]!);
await app.close();
await database.close();
console.log({ unsigned, signed });

const ed = results[0]!;
const perRequestUs = (r: Load) => 1e6 / r.requests;
writeSection(
  'bench:signing',
  `## Signatures (\`npm run bench -- signing\`)

Machine: ${machine()}.

Per message, one core, ${ed.size}-byte search envelope (3 items), digest over its RFC 8785 canonical form included:

| algorithm | sign | verify |
| --- | --- | --- |
${results.map((r) => `| ${r.algorithm} | ${r.signUs.toFixed(0)} µs | ${r.verifyUs.toFixed(0)} µs |`).join('\n')}

Sync \`idtype-value\` search (\`/registry/sync/search\`) on PostgreSQL (2,000 generated households), 16 connections for
${DURATION} s per run from autocannon in a second process pinned to core 1 (\`taskset -c 1\`), runs in the order
unsigned, signed, signed, unsigned after a 5 s warm-up, means shown; every request has a fresh
\`message_id\`, the answer is always signed (Ed25519):

| requests | req/s | p50 | p99 | non-2xx |
| --- | --- | --- | --- | --- |
| unsigned (policy optional) | ${unsigned.requests.toFixed(0)} | ${unsigned.p50} ms | ${unsigned.p99} ms | ${unsigned.non2xx} |
| signed, verified by the server | ${signed.requests.toFixed(0)} | ${signed.p50} ms | ${signed.p99} ms | ${signed.non2xx} |

Overhead of verifying the request signature: ${(perRequestUs(signed) - perRequestUs(unsigned)).toFixed(0)} µs per request of wall time at this
concurrency (${((1 - signed.requests / unsigned.requests) * 100).toFixed(0)} % fewer requests per second); signing each answer costs the
${ed.signUs.toFixed(0)} µs measured above in both runs.`,
);
