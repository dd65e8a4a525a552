/**
 * The search engine against a generated registry (registry/generate.ts), on both backends: each
 * answer is recomputed independently in JavaScript from the rows read back with plain queries.
 */
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Domain } from '../config.js';
import { generatedRows } from '../registry/demo.js';
import { importRows } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { runSearch } from './execute.js';

const NOW = new Date('2026-01-01T08:00:00Z');
const TODAY = '2026-01-01';

interface Person {
  id: string;
  sex: string | null;
  birth_date: string | null;
  death_date: string | null;
  marital_status: string | null;
  is_disabled: boolean;
  surname: string | null;
  registration_date: string | null;
  path: string | null;
}

interface Group {
  id: string;
  size: number;
  poverty_score: string | null;
  group_type: string;
  path: string | null;
}

function ageOf(birth: string, today = TODAY): number {
  const [y, m, d] = birth.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = today.split('-').map(Number) as [number, number, number];
  return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const ids = <T extends { id: string }>(rows: T[]) => rows.map((r) => r.id).sort(byId);

describeBackends('search engine (generated registry)', (ctx) => {
  let people: Person[] = [];
  let groups: Group[] = [];

  beforeAll(async () => {
    const report = await importRows(ctx.database, generatedRows(80, 'search-cross-check'));
    expect(report.failed).toBe(0);
    const db = ctx.database.db;
    people = await db
      .selectFrom('individual')
      .leftJoin('area', 'area.id', 'individual.area_id')
      .select([
        'individual.id',
        'sex',
        'birth_date',
        'death_date',
        'marital_status',
        'is_disabled',
        'surname',
        'registration_date',
        'area.path',
      ])
      .execute();
    groups = await db
      .selectFrom('household')
      .leftJoin('area', 'area.id', 'household.area_id')
      .select(['household.id', 'size', 'poverty_score', 'group_type', 'area.path'])
      .execute();
    expect(people.length).toBeGreaterThan(150);
  }, 120_000);

  async function all(domain: Domain, criteria: Record<string, unknown>): Promise<{ ids: string[]; total: number }> {
    const result = await runSearch(ctx.database.db, { domain, criteria, pageSize: 10_000, pageNumber: 1, now: NOW });
    return { ids: result.ids, total: result.totalCount };
  }

  async function same(domain: Domain, criteria: Record<string, unknown>, expected: string[]): Promise<void> {
    const found = await all(domain, criteria);
    expect(found.ids).toEqual(expected); // default order: by id
    expect(found.total).toBe(expected.length);
  }

  const expr = (query: unknown, more: Record<string, unknown> = {}) => ({ query_type: 'expression', query, ...more });

  describe('individuals', () => {
    it('women aged 60 or more', async () => {
      const expected = people.filter((p) => p.sex === 'female' && p.birth_date && ageOf(p.birth_date) >= 60);
      expect(expected.length).toBeGreaterThan(0);
      await same('social', expr({ sex: 'female', age: { $gte: 60 } }), ids(expected));
    });

    it('children under 5 (predicate)', async () => {
      const expected = people.filter((p) => p.birth_date && ageOf(p.birth_date) < 5);
      await same(
        'social',
        {
          query_type: 'predicate',
          query: [{ seq_num: 1, expression1: { attribute_name: 'age', operator: 'lt', attribute_value: '5' } }],
        },
        ids(expected),
      );
    });

    it('everyone in a region (its districts and wards included)', async () => {
      const region = people.find((p) => p.path)!.path!.split('/')[1]!;
      const expected = people.filter((p) => p.path?.startsWith(`KL/${region}/`));
      expect(expected.length).toBeGreaterThan(0);
      await same('social', expr({ area: region }), ids(expected));
    });

    it('widowed or divorced, or disabled', async () => {
      const expected = people.filter((p) => p.marital_status === 'W' || p.marital_status === 'D' || p.is_disabled);
      await same(
        'social',
        expr({ $or: [{ marital_status: { $in: ['W', 'D'] } }, { is_disabled: true }] }),
        ids(expected),
      );
    });

    it('not a given surname (people without one included)', async () => {
      const surname = people.find((p) => p.surname)!.surname!;
      const expected = people.filter((p) => p.surname?.toLowerCase() !== surname.toLowerCase());
      await same('social', expr({ $not: { surname: surname.toUpperCase() } }), ids(expected));
    });

    it('deceased people', async () => {
      const expected = people.filter((p) => p.death_date !== null);
      await same('crvs', expr({ is_alive: false }), ids(expected));
    });

    it('sorted by registration date desc then age asc, paged', async () => {
      const expected = [...people].sort((a, b) => {
        const r = cmpNullsLast(a.registration_date, b.registration_date, 'desc');
        if (r) return r;
        const s = cmpNullsLast(a.birth_date, b.birth_date, 'desc'); // age asc = birth date desc
        return s || byId(a.id, b.id);
      });
      const sort = [
        { attribute_name: 'registration_date', sort_order: 'desc' },
        { attribute_name: 'age', sort_order: 'asc' },
      ];
      const pages: string[] = [];
      for (let page = 1; ; page++) {
        const result = await runSearch(ctx.database.db, {
          domain: 'social',
          criteria: expr({}, { sort }),
          pageSize: 7,
          pageNumber: page,
          now: NOW,
        });
        expect(result.totalCount).toBe(people.length);
        if (result.ids.length === 0) break;
        pages.push(...result.ids);
      }
      expect(pages).toEqual(expected.map((p) => p.id));
    });
  });

  describe('groups', () => {
    it('poor and large households, sorted', async () => {
      const expected = groups
        .filter((g) => g.poverty_score !== null && Number(g.poverty_score) < 30 && g.size >= 4)
        .sort((a, b) => Number(b.poverty_score) - Number(a.poverty_score) || a.size - b.size || byId(a.id, b.id));
      expect(expected.length).toBeGreaterThan(0);
      const found = await all(
        'social',
        expr(
          { poverty_score: { $lt: 30 }, group_size: { $gte: '4' } },
          {
            reg_record_type: 'Household',
            sort: [
              { attribute_name: 'poverty_score', sort_order: 'desc' },
              { attribute_name: 'group_size', sort_order: 'asc' },
            ],
          },
        ),
      );
      expect(found.ids).toEqual(expected.map((g) => g.id));
    });

    it('families outside a region', async () => {
      const region = groups.find((g) => g.path)!.path!.split('/')[1]!;
      const expected = groups.filter((g) => g.group_type === 'family' && !g.path?.startsWith(`KL/${region}/`));
      await same(
        'social',
        expr({ group_type: 'family', area: { $ne: region } }, { response_entity: 'Group' }),
        ids(expected),
      );
    });
  });

  describe('domain records', () => {
    it('IBR: active OAP beneficiaries', async () => {
      const { rows } = await sql<{
        id: string;
      }>`select distinct e.individual_id as id from enrollment e join programme p on p.id = e.programme_id where p.code = 'OAP' and e.status = 'active' and e.individual_id is not null`.execute(
        ctx.database.db,
      );
      expect(rows.length).toBeGreaterThan(0);
      await same('ibr', expr({ programme: 'OAP', enrollment_status: 'active' }), ids(rows));
    });

    it('DR: severe physical or visual disabilities', async () => {
      const { rows } = await sql<{
        id: string;
      }>`select distinct individual_id as id from disability where disability_type in ('physical', 'visual') and functional_severity >= 3`.execute(
        ctx.database.db,
      );
      await same(
        'dr',
        expr({ disability_type: { $in: ['physical', 'visual'] }, functional_severity: { $gte: 3 } }),
        ids(rows),
      );
    });

    it('FR: maize farms of one hectare or more', async () => {
      const { rows } = await sql<{
        id: string;
      }>`select distinct farmer_id as id from farm where 'maize' = any(crop_types) and land_size >= 1`.execute(
        ctx.database.db,
      );
      expect(rows.length).toBeGreaterThan(0);
      await same('fr', expr({ crop_type: 'maize', farm_size: { $gte: 1 } }), ids(rows));
    });

    it('CRVS: people with a registered death', async () => {
      const { rows } = await sql<{
        id: string;
      }>`select distinct subject_id as id from vital_event where event_type = 'death' and subject_id is not null`.execute(
        ctx.database.db,
      );
      await same('crvs', expr({ event_type: 'Death' }), ids(rows));
    });

    it('consent: the demo sender sees exactly the people with a valid consent', async () => {
      const { rows } = await sql<{
        id: string;
      }>`select distinct individual_id as id from consent where sender_id = 'demo-client' and given_at <= ${NOW.toISOString()}::timestamptz and (expires_at is null or expires_at > ${NOW.toISOString()}::timestamptz) and (revoked_at is null or revoked_at > ${NOW.toISOString()}::timestamptz)`.execute(
        ctx.database.db,
      );
      const result = await runSearch(ctx.database.db, {
        domain: 'social',
        criteria: expr({}),
        pageSize: 10_000,
        pageNumber: 1,
        now: NOW,
        consentSenderId: 'demo-client',
      });
      expect(result.ids).toEqual(ids(rows));
      expect(result.totalCount).toBe(rows.length);
    });
  });
});

function cmpNullsLast(a: string | null, b: string | null, order: 'asc' | 'desc'): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return order === 'asc' ? (a < b ? -1 : 1) : a < b ? 1 : -1;
}

describe('ageOf (test helper)', () => {
  it('counts whole years', () => {
    expect(ageOf('1966-01-01')).toBe(60);
    expect(ageOf('1966-01-02')).toBe(59);
  });
});
