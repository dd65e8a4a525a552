/**
 * Load generator for the sync routes, run in its own process (pinned to core 1 by the caller):
 * `search` posts to the server's `…/registry/sync/search` (bearer token, fresh `message_id`, and
 * a fresh Ed25519 signature per request when a key is given, made here in the client); `bare`
 * posts the same unsigned envelopes to a bare route (echo or lookup) with no token. Reads its spec
 * (SyncSpec) from LOAD_SPEC and prints a LoadResult as JSON on stdout.
 */
import { createPrivateKey } from 'node:crypto';
import { cannon, specFrom } from './cannon.js';
import { expressionCriteria, idtypeCriteria, searchBody, type ExpressionWindow, type Sender } from './messages.js';

export interface SyncSpec {
  url: string;
  connections: number;
  duration: number;
  /** Bearer token; none for the bare routes. */
  token?: string;
  senderId: string;
  /** Signs every request when given. */
  signer?: { kid: string; privateKeyPem: string };
  query: 'idtype' | 'expression';
  /** UIN values, used in turn (idtype). */
  values?: string[];
  /** Expression windows, used in turn (expression). */
  windows?: ExpressionWindow[];
}

const spec = specFrom<SyncSpec>('LOAD_SPEC');
const sender: Sender = {
  senderId: spec.senderId,
  ...(spec.signer ? { signer: { kid: spec.signer.kid, privateKey: createPrivateKey(spec.signer.privateKeyPem) } } : {}),
};
const values = spec.values ?? [];
const windows = spec.windows ?? [];
if (spec.query === 'idtype' && values.length === 0) throw new Error('no UIN values');
if (spec.query === 'expression' && windows.length === 0) throw new Error('no expression windows');

let n = 0;
const criteria = () =>
  spec.query === 'idtype'
    ? idtypeCriteria(values[n++ % values.length]!)
    : expressionCriteria(windows[n++ % windows.length]!);

const result = await cannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.duration,
  ...(spec.token ? { headers: { authorization: `Bearer ${spec.token}` } } : {}),
  body: () => searchBody(sender, criteria()),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
