import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import { enqueue, startQueue, type JobQueue } from '../jobs/queue.js';
import { isMigrated, migrateToLatest } from './migrate.js';
import { runInTx } from './tx.js';

describeBackends('store', (ctx) => {
  it('applies every migration, and applying again changes nothing', async () => {
    expect(await isMigrated(ctx.database.db)).toBe(true);
    expect(await migrateToLatest(ctx.database.db)).toEqual([]);
  });

  it('reads dates back as YYYY-MM-DD strings', async () => {
    const row = await ctx.database.db
      .insertInto('individual')
      .values({ given_name: 'Ada', surname: 'Ngugi', birth_date: '1990-02-03' } as never)
      .returning(['id', 'birth_date', 'version'])
      .executeTakeFirstOrThrow();
    expect(row.birth_date).toBe('1990-02-03');
    expect(row.version).toBe(1);
  });

  it('runInTx commits together and rolls back together', async () => {
    const { db } = ctx.database;
    await runInTx(db, async (trx) => {
      await trx.insertInto('area').values({ code: 'TX-OK', name: 'ok', path: 'TX-OK/' }).execute();
    });
    await expect(
      runInTx(db, async (trx) => {
        await trx.insertInto('area').values({ code: 'TX-NO', name: 'no', path: 'TX-NO/' }).execute();
        // nested call joins the outer transaction
        await runInTx(db, async (inner) => {
          await inner.insertInto('area').values({ code: 'TX-NO2', name: 'no', path: 'TX-NO2/' }).execute();
        });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const codes = await db.selectFrom('area').select('code').where('code', 'like', 'TX-%').execute();
    expect(codes.map((c) => c.code)).toEqual(['TX-OK']);
  });

  it('a concurrent write outside a transaction is not rolled back with it', async () => {
    const { db } = ctx.database;
    const failing = runInTx(db, async (trx) => {
      await trx.insertInto('area').values({ code: 'CC-TX', name: 'tx', path: 'CC-TX/' }).execute();
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('abort');
    });
    const outside = db.insertInto('area').values({ code: 'CC-OUT', name: 'out', path: 'CC-OUT/' }).execute();
    await expect(failing).rejects.toThrow('abort');
    await outside;
    const codes = await db.selectFrom('area').select('code').where('code', 'like', 'CC-%').execute();
    expect(codes.map((c) => c.code)).toEqual(['CC-OUT']);
  });

  it('deleting a person or a household removes their memberships', async () => {
    const { db } = ctx.database;
    const person = await db
      .insertInto('individual')
      .values({ given_name: 'Del' } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    const other = await db
      .insertInto('individual')
      .values({ given_name: 'Keep' } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    const household = await db
      .insertInto('household')
      .values({ group_type: 'household' } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('membership')
      .values([
        { household_id: household.id, individual_id: person.id },
        { household_id: household.id, individual_id: other.id },
      ] as never)
      .execute();
    await db.deleteFrom('individual').where('id', '=', person.id).execute();
    const left = await db
      .selectFrom('membership')
      .select('individual_id')
      .where('household_id', '=', household.id)
      .execute();
    expect(left).toEqual([{ individual_id: other.id }]);
    await db.deleteFrom('household').where('id', '=', household.id).execute();
    expect(
      await db.selectFrom('membership').select('individual_id').where('household_id', '=', household.id).execute(),
    ).toEqual([]);
  });

  describe('job queue', () => {
    let boss: JobQueue;
    beforeAll(async () => {
      boss = await startQueue(ctx.database, { supervise: false });
      await boss.createQueue('probe');
    });
    afterAll(async () => {
      await boss?.stop({ graceful: false, close: true });
    });

    it('a job enqueued in a committed transaction exists; one in a rolled-back transaction never does', async () => {
      const { db } = ctx.database;
      const committed = await runInTx(db, async (trx) => {
        await trx.insertInto('area').values({ code: 'JOB-OK', name: 'ok', path: 'JOB-OK/' }).execute();
        return enqueue(boss, 'probe', { kind: 'committed' });
      });
      let rolledBackId: string | null = null;
      await expect(
        runInTx(db, async () => {
          rolledBackId = await enqueue(boss, 'probe', { kind: 'rolled-back' });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(committed).toBeTruthy();
      expect(rolledBackId).toBeTruthy();

      const seen: string[] = [];
      await boss.work<{ kind: string }>('probe', { pollingIntervalSeconds: 0.5 }, async ([job]) => {
        seen.push(job!.data.kind);
      });
      await expect.poll(() => seen, { timeout: 10_000 }).toContain('committed');
      await new Promise((r) => setTimeout(r, 1500));
      expect(seen).toEqual(['committed']);
      expect(await boss.getJobById('probe', rolledBackId!)).toBeNull();
      const jobs = await sql<{ n: string }>`select count(*)::text as n from pgboss.job where name = 'probe'`.execute(
        db,
      );
      expect(jobs.rows[0]!.n).toBe('1');
    });
  });
});
