/**
 * The crypto ceiling of a signed sync search, in its own process (pinned to the server's core by
 * the caller): for `seconds`, in a loop, one Ed25519 verify of a signed search request as the load
 * generator makes it plus one Ed25519 sign of a search answer as the server sends it (digests
 * over the JCS canonical forms included). Reads CryptoSpec from CRYPTO_SPEC, prints CryptoResult.
 */
import { generateKeyPairSync } from 'node:crypto';
import { jwkThumbprint, signMessage, verifyMessage, type SignedEnvelope } from '../../packages/protocol/src/index.js';
import { specFrom } from './cannon.js';
import { idtypeCriteria, searchBody } from './messages.js';

export interface CryptoSpec {
  seconds: number;
  /** A UIN of the data (the request is built like the load generator's). */
  value: string;
  /** `{header, message}` of a real sync search answer. */
  response: { header: unknown; message: unknown };
}

export interface CryptoResult {
  /** verify + sign pairs per second. */
  opsPerSecond: number;
  verifyUs: number;
  signUs: number;
  requestBytes: number;
  responseBytes: number;
}

const spec = specFrom<CryptoSpec>('CRYPTO_SPEC');
const client = generateKeyPairSync('ed25519');
const server = generateKeyPairSync('ed25519');
const request = JSON.parse(
  searchBody(
    { senderId: 'bench-signed', signer: { kid: jwkThumbprint(client.publicKey), privateKey: client.privateKey } },
    idtypeCriteria(spec.value),
  ),
) as SignedEnvelope;
const signOptions = {
  senderId: 'opendci',
  kid: jwkThumbprint(server.publicKey),
  privateKey: server.privateKey,
};
const verifyOptions = { resolveKey: () => client.publicKey, expectedSenderId: 'bench-signed' };

for (let i = 0; i < 500; i++) {
  verifyMessage(request, verifyOptions);
  signMessage(spec.response, signOptions);
}
let ops = 0;
let verifyNs = 0n;
let signNs = 0n;
const until = process.hrtime.bigint() + BigInt(Math.round(spec.seconds * 1e9));
const started = process.hrtime.bigint();
for (;;) {
  const t0 = process.hrtime.bigint();
  verifyMessage(request, verifyOptions);
  const t1 = process.hrtime.bigint();
  signMessage(spec.response, signOptions);
  const t2 = process.hrtime.bigint();
  verifyNs += t1 - t0;
  signNs += t2 - t1;
  ops++;
  if (t2 >= until) break;
}
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
const result: CryptoResult = {
  opsPerSecond: Math.round(ops / elapsed),
  verifyUs: Math.round(Number(verifyNs) / 1e3 / ops),
  signUs: Math.round(Number(signNs) / 1e3 / ops),
  requestBytes: JSON.stringify(request).length,
  responseBytes: JSON.stringify(spec.response).length,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
