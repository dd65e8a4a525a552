/**
 * The lookup ceiling: a bare Fastify app on the benchmark's store, opened with the server's own
 * code, whose POST /lookup runs the search item of the posted (unsigned) search envelope with the
 * server's search engine (`runSearch`) and reads the records (`RegistryReader`) as the server does
 * (an identifier lookup reads its person in the same statement),
 * and answers them as JSON: no token, validation, signature, audit or DCI envelope. DATABASE_URL
 * and PORT from the environment; GET /ready for the caller.
 */
import Fastify from 'fastify';
import { RegistryReader } from '../../packages/server/src/registry/reader.js';
import { runSearch } from '../../packages/server/src/search/index.js';
import { openStore } from '../../packages/server/src/store.js';

interface Body {
  message: { search_request: { search_criteria: unknown }[] };
}

const database = await openStore(process.env.DATABASE_URL!);
const reader = new RegistryReader(database.db);
const app = Fastify({ logger: false });
app.post('/lookup', async (request) => {
  const criteria = (request.body as Body).message.search_request[0]!.search_criteria;
  const found = await runSearch(database.db, {
    domain: 'social',
    criteria,
    pageSize: 10,
    pageNumber: 1,
    holderLookup: (...lookup) => reader.holderOf(...lookup),
  });
  const records =
    found.records ??
    (await reader.load({
      domain: 'social',
      recordType: found.recordType,
      recordKind: found.recordKind,
      ids: found.ids,
    }));
  return { total_count: found.totalCount, records: found.ids.map((id) => records.get(id)) };
});
app.get('/ready', async () => ({ status: 'ready' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await database.close();
    process.exit(0);
  })();
});
