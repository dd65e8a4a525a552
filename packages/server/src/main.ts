/**
 * Starting the server: configuration, store, demo data, listening, graceful shutdown.
 * Used by `dci serve` (and so by `npm start`).
 */
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { redactUrl } from './db/open.js';
import { buildApp } from './http/app.js';
import { seedDemoRegistry } from './registry/demo.js';
import { generateSecret } from './security/index.js';

export const DEMO_CLIENT_ID = 'demo-client';

/**
 * The demo sender: every operation and domain, signatures optional, callbacks to this machine.
 * Its secret is renewed at every --demo start and printed, so that it is never stored in clear.
 */
async function ensureDemoClient(app: FastifyInstance): Promise<string> {
  const existing = await app.senders.get(DEMO_CLIENT_ID);
  if (!existing) {
    const secret = generateSecret();
    await app.senders.add({
      id: DEMO_CLIENT_ID,
      clientSecret: secret,
      name: 'Demo client (created by --demo)',
      signaturePolicy: 'optional',
      callbackAllow: ['http://127.0.0.1:*', 'http://localhost:*'],
    });
    return secret;
  }
  return app.senders.rotateSecret(DEMO_CLIENT_ID);
}

export interface ServeOptions {
  demo?: boolean;
  /** Where the startup banner goes (stdout by default). */
  print?: (line: string) => void;
}

export async function serve(config: Config, options: ServeOptions = {}): Promise<FastifyInstance> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (options.demo && config.production) {
    throw new Error('--demo is refused when NODE_ENV=production: it loads synthetic people and a demo client');
  }
  const app = await buildApp(config);
  closeWithGrace({ delay: 15_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });

  if (app.store.backend === 'pglite') {
    app.log.warn('embedded store (PGlite): for production use PostgreSQL (DATABASE_URL=postgres://…)');
  }
  if (!config.keyEncryptionKey) {
    app.log.warn('DCI_KEY_ENCRYPTION_KEY is not set: private keys are stored unencrypted (development only)');
  }

  let demoSecret: string | undefined;
  if (options.demo) {
    demoSecret = await ensureDemoClient(app);
    const started = Date.now();
    const report = await seedDemoRegistry(app.store, config.demoHouseholds);
    if (report) {
      app.log.info(
        { households: config.demoHouseholds, rows: report.rows, failed: report.failed, ms: Date.now() - started },
        'demo registry loaded',
      );
    }
  }

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const local = `http://localhost:${port}`;
  print('');
  print(
    `OpenDCI is running (${app.store.backend === 'pglite' ? 'embedded store' : 'PostgreSQL'}: ${redactUrl(config.databaseUrl)})`,
  );
  print(`  health     ${local}/health`);
  print(`  readiness  ${local}/ready`);
  for (const domain of config.domains) print(`  ${domain.padEnd(10)} ${local}/${domain}/registry/…`);
  print(`  default    ${local}/registry/… (${config.defaultDomain})`);
  print(`  token      ${local}/oauth2/client/token`);
  print(`  keys       ${local}/.well-known/jwks.json`);
  if (demoSecret) {
    print('');
    print(
      `  demo client: client_id=${DEMO_CLIENT_ID} client_secret=${demoSecret} (signatures optional; new secret at every --demo start)`,
    );
    print(
      `  curl -s -d grant_type=client_credentials -d client_id=${DEMO_CLIENT_ID} -d client_secret=${demoSecret} ${local}/oauth2/client/token`,
    );
  }
  print('');
  return app;
}
