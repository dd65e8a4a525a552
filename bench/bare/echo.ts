/**
 * The HTTP ceiling: a bare Fastify app whose POST /echo answers the JSON body it got (parsed and
 * serialized again), nothing else. PORT from the environment; GET /ready for the caller.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/echo', async (request) => request.body);
app.get('/ready', async () => ({ status: 'ready' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
