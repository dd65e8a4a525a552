import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config.js';
import { describeBackends } from '../test-support/backends.js';
import { LATEST_MIGRATION } from '../db/migrate.js';
import { buildApp } from './app.js';

describeBackends('http app', (ctx) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), { database: ctx.database, logger: false });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers /health', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the database answers and the schema is migrated', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } });
  });

  it('is not ready while a migration is pending', async () => {
    const { db } = ctx.database;
    await db
      .deleteFrom('kysely_migration' as never)
      .where('name' as never, '=', LATEST_MIGRATION as never)
      .execute();
    try {
      const res = await app.inject({ method: 'GET', url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'not ready', checks: { database: 'ok', migrations: 'pending' } });
    } finally {
      await db
        .insertInto('kysely_migration' as never)
        .values({ name: LATEST_MIGRATION, timestamp: new Date().toISOString() })
        .execute();
    }
  });
});
