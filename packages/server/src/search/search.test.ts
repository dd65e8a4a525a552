/**
 * The search engine on a small hand-made registry (fixtures/registry.ndjson) whose answers are
 * known, on both backends. People are labelled P1…P8 by their UIN (10000n), households HH-1…HH-4.
 * The clock is fixed at 2026-01-01, so ages are: P1 65, P2 67, P3 15, P4 60 (birthday today),
 * P5 59 (birthday tomorrow), P6 35, P7 30, P8 unknown (no birth date; deceased).
 */
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Domain } from '../config.js';
import { importFile } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { runSearch, type RunSearchOptions } from './execute.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/registry.ndjson', import.meta.url));
const NOW = new Date('2026-01-01T12:00:00Z');
const ALL_PEOPLE = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8'];

type Criteria = Record<string, unknown>;
const expr = (query: unknown, more: Criteria = {}): Criteria => ({ query_type: 'expression', query, ...more });
const pred = (query: unknown, more: Criteria = {}): Criteria => ({ query_type: 'predicate', query, ...more });
const idv = (type: string, value: string, more: Criteria = {}): Criteria => ({
  query_type: 'idtype-value',
  query: { type, value },
  ...more,
});
const p = (attribute_name: string, operator: string, attribute_value: unknown) => ({
  attribute_name,
  operator,
  attribute_value,
});

describeBackends('search engine (fixture registry)', (ctx) => {
  const label = new Map<string, string>();

  beforeAll(async () => {
    const report = await importFile(ctx.database, FIXTURE);
    expect(report.failed, JSON.stringify(report.errors)).toBe(0);
    const { rows } = await sql<{
      id_type: string;
      id_value: string;
      entity_id: string;
    }>`select id_type, id_value, entity_id from identifier where id_type in ('UIN', 'HHID')`.execute(ctx.database.db);
    for (const r of rows) label.set(r.entity_id, r.id_type === 'UIN' ? `P${Number(r.id_value) - 100000}` : r.id_value);
  });

  interface Found {
    names: string[];
    total: number;
    kind: string;
    type: string;
  }

  async function run(domain: Domain, criteria: unknown, more: Partial<RunSearchOptions> = {}): Promise<Found> {
    const result = await runSearch(ctx.database.db, {
      domain,
      criteria,
      pageSize: 100,
      pageNumber: 1,
      now: NOW,
      ...more,
    });
    return {
      names: result.ids.map((id) => label.get(id) ?? id),
      total: result.totalCount,
      kind: result.recordKind,
      type: result.recordType,
    };
  }

  /** The set of matches (sorted names), checking that the total agrees. */
  async function matches(domain: Domain, criteria: unknown, more: Partial<RunSearchOptions> = {}): Promise<string[]> {
    const found = await run(domain, criteria, more);
    expect(found.total).toBe(found.names.length);
    return [...found.names].sort();
  }

  const social = (criteria: unknown) => matches('social', criteria);
  const rejected = (code: string) => ({ name: 'QueryError', code });

  describe('idtype-value', () => {
    it('finds the person holding an identifier of any type', async () => {
      expect(await social(idv('UIN', '100003'))).toEqual(['P3']);
      expect(await social(idv('BRN', 'BRN-2010-1'))).toEqual(['P3']);
      expect(await social(idv('NID', 'N-2'))).toEqual(['P2']);
      expect(await social(idv('UIN', '999999'))).toEqual([]);
      expect(await social(idv('NID', '100003'))).toEqual([]);
    });

    it('answers with the group when the identifier is a household one and no record type is named', async () => {
      const found = await run('social', idv('HHID', 'HH-2'));
      expect(found).toMatchObject({ names: ['HH-2'], kind: 'household', type: 'Group', total: 1 });
      const person = await run('social', idv('UIN', '100001'));
      expect(person).toMatchObject({ names: ['P1'], kind: 'individual', type: 'Member' });
      // A named record type wins: a household identifier does not match a Member.
      expect(await run('social', idv('HHID', 'HH-2', { reg_record_type: 'Member' }))).toMatchObject({
        names: [],
        total: 0,
        kind: 'individual',
      });
    });

    it('matches a farm identifier to its farmer in FR', async () => {
      expect(await matches('fr', idv('FARM', 'F-2'))).toEqual(['P5']);
      expect(await matches('fr', idv('UIN', '100004'))).toEqual(['P4']);
    });
  });

  describe('expression', () => {
    it('implicit equality, $eq and $ne (missing values count as different)', async () => {
      expect(await social(expr({ sex: 'female' }))).toEqual(['P1', 'P3', 'P5', 'P7']);
      expect(await social(expr({ sex: { $eq: 'male' } }))).toEqual(['P2', 'P4', 'P6']);
      expect(await social(expr({ sex: { $ne: 'male' } }))).toEqual(['P1', 'P3', 'P5', 'P7', 'P8']);
      expect(await social(expr({ birth_date: { $ne: '1960-05-01' } }))).toEqual([
        'P2',
        'P3',
        'P4',
        'P5',
        'P6',
        'P7',
        'P8',
      ]);
    });

    it('$gt $gte $lt $lte on dates', async () => {
      expect(await social(expr({ birth_date: { $gt: '1966-01-01' } }))).toEqual(['P3', 'P5', 'P6', 'P7']);
      expect(await social(expr({ birth_date: { $gte: '1966-01-01' } }))).toEqual(['P3', 'P4', 'P5', 'P6', 'P7']);
      expect(await social(expr({ birth_date: { $lt: '1966-01-01' } }))).toEqual(['P1', 'P2']);
      expect(await social(expr({ birth_date: { $lte: '1966-01-01' } }))).toEqual(['P1', 'P2', 'P4']);
      expect(await social(expr({ birth_date: { $gte: '1960-01-01', $lte: '1970-12-31' } }))).toEqual([
        'P1',
        'P4',
        'P5',
      ]);
      expect(await social(expr({ registration_date: { $gte: '2021-06-01' } }))).toEqual(['P4', 'P5', 'P6', 'P7']);
      expect(await social(expr({ death_date: { $exists: true } }))).toEqual(['P8']);
    });

    it('$in, $nin and $exists', async () => {
      expect(await social(expr({ marital_status: { $in: ['W', 'D'] } }))).toEqual(['P4', 'P5']);
      expect(await social(expr({ sex: { $nin: ['male', 'female'] } }))).toEqual(['P8']);
      expect(await social(expr({ birth_date: { $exists: false } }))).toEqual(['P8']);
      expect(await social(expr({ area: { $exists: true } }))).toEqual(['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7']);
      expect(await social(expr({ marital_status: { $in: [] } }))).toEqual([]);
      expect(await social(expr({ marital_status: { $nin: [] } }))).toEqual(ALL_PEOPLE);
    });

    it('$and, $or, $not and $nor', async () => {
      expect(await social(expr({ $and: [{ sex: 'female' }, { marital_status: 'M' }] }))).toEqual(['P1', 'P7']);
      expect(await social(expr({ $or: [{ marital_status: 'W' }, { is_disabled: true }] }))).toEqual(['P1', 'P5']);
      expect(await social(expr({ $not: { sex: 'female' } }))).toEqual(['P2', 'P4', 'P6', 'P8']);
      expect(await social(expr({ $nor: [{ sex: 'female' }, { sex: 'male' }] }))).toEqual(['P8']);
      expect(await social(expr({ age: { $not: { $gte: 60 } } }))).toEqual(['P3', 'P5', 'P6', 'P7', 'P8']);
      expect(
        await social(
          expr({
            $or: [
              { $and: [{ sex: 'male' }, { age: { $gte: 60 } }] },
              { $and: [{ sex: 'female' }, { age: { $lt: 18 } }] },
            ],
          }),
        ),
      ).toEqual(['P2', 'P3', 'P4']);
    });

    it('the spec wrapper {type, value: {expression: {collection, query}}} with its collection', async () => {
      const found = await run('social', {
        query_type: 'expression',
        query: {
          type: 'ns:org:QueryType:expression',
          value: {
            expression: {
              collection: 'Group',
              query: {
                $and: [{ poverty_score: { $lt: 5 } }, { location: { $eq: 'KL_3' } }, { group_size: { $lt: 5 } }],
              },
            },
          },
        },
      });
      expect(found).toMatchObject({ names: ['HH-3'], kind: 'household', type: 'Group', total: 1 });
    });

    it('the empty document matches every record', async () => {
      expect(await social(expr({}))).toEqual(ALL_PEOPLE);
      expect(await social(expr({}, { reg_record_type: 'Group' }))).toEqual(['HH-1', 'HH-2', 'HH-3', 'HH-4']);
    });
  });

  describe('predicate', () => {
    it('the compliance example shape: expression1 and expression2', async () => {
      const q = [
        { seq_num: 1, expression1: p('age', 'lt', '25'), condition: 'and', expression2: p('sex', 'eq', 'female') },
      ];
      expect(await social(pred(q))).toEqual(['P3']);
    });

    it('each operator, with string values coerced', async () => {
      expect(await social(pred([{ expression1: p('age', 'gt', '60') }]))).toEqual(['P1', 'P2']);
      expect(await social(pred([{ expression1: p('age', 'ge', '60') }]))).toEqual(['P1', 'P2', 'P4']);
      expect(await social(pred([{ expression1: p('age', 'gte', '60') }]))).toEqual(['P1', 'P2', 'P4']);
      expect(await social(pred([{ expression1: p('age', 'lt', '30') }]))).toEqual(['P3']);
      expect(await social(pred([{ expression1: p('age', 'le', '30') }]))).toEqual(['P3', 'P7']);
      expect(await social(pred([{ expression1: p('age', 'lte', '30') }]))).toEqual(['P3', 'P7']);
      expect(await social(pred([{ expression1: p('age', 'eq', '60') }]))).toEqual(['P4']);
      expect(await social(pred([{ expression1: p('age', 'ne', '60') }]))).toEqual([
        'P1',
        'P2',
        'P3',
        'P5',
        'P6',
        'P7',
        'P8',
      ]);
      expect(await social(pred([{ expression1: p('age', 'in', '30,35') }]))).toEqual(['P6', 'P7']);
      expect(await social(pred([{ expression1: p('marital_status', 'in', ['W', 'D']) }]))).toEqual(['P4', 'P5']);
    });

    it('or, not, seq_num order and chaining through a dangling condition', async () => {
      const or = [
        {
          seq_num: 1,
          expression1: p('marital_status', 'eq', 'W'),
          condition: 'or',
          expression2: p('marital_status', 'eq', 'D'),
        },
      ];
      expect(await social(pred(or))).toEqual(['P4', 'P5']);
      const not = [
        { expression1: p('sex', 'eq', 'female'), condition: 'not', expression2: p('marital_status', 'eq', 'M') },
      ];
      expect(await social(pred(not))).toEqual(['P3', 'P5']);
      // Two items are joined with AND, whatever their order in the list.
      const both = [
        { seq_num: 2, expression1: p('surname', 'eq', 'otieno') },
        { seq_num: 1, expression1: p('sex', 'eq', 'male') },
      ];
      expect(await social(pred(both))).toEqual(['P2']);
      // [W or] [D] [male] = (W OR D) AND male
      const chain = [
        { seq_num: 3, expression1: p('sex', 'eq', 'male') },
        { seq_num: 1, expression1: p('marital_status', 'eq', 'W'), condition: 'or' },
        { seq_num: 2, expression1: p('marital_status', 'eq', 'D') },
      ];
      expect(await social(pred(chain))).toEqual(['P4']);
    });

    it('an array sent with query_type expression is read as a predicate list', async () => {
      expect(await social(expr([{ expression1: p('given_name', 'eq', 'Grace') }]))).toEqual(['P3']);
    });
  });

  describe('vocabulary', () => {
    it('aliases and dotted response-shape paths', async () => {
      expect(await social(expr({ gender: 'male' }))).toEqual(['P2', 'P4', 'P6']);
      expect(await social(expr({ 'demographic_info.sex': 'male' }))).toEqual(['P2', 'P4', 'P6']);
      expect(await social(expr({ 'demographic_info.person.sex': 'male' }))).toEqual(['P2', 'P4', 'P6']);
      expect(await social(expr({ 'demographic_info.birth_date': { $lt: '1960-01-01' } }))).toEqual(['P2']);
      expect(await social(expr({ date_of_birth: '2010-02-14' }))).toEqual(['P3']);
      expect(await social(expr({ 'name.surname': 'Hassan' }))).toEqual(['P6', 'P7']);
      expect(await social(expr({ 'demographic_info.name.given_name': 'zainab' }))).toEqual(['P7']);
      expect(await social(pred([{ expression1: p('gender', 'eq', 'male') }]))).toEqual(['P2', 'P4', 'P6']);
    });

    it('given_name and surname compare case-insensitively', async () => {
      expect(await social(expr({ given_name: 'AMINA' }))).toEqual(['P1']);
      expect(await social(expr({ surname: 'MWANGI' }))).toEqual(['P4', 'P5']);
      expect(await social(expr({ surname: { $in: ['otieno', 'HASSAN'] } }))).toEqual(['P1', 'P2', 'P3', 'P6', 'P7']);
    });

    it('value coercion: "true", "1", numbers as strings, code spellings', async () => {
      expect(await social(expr({ is_disabled: 'true' }))).toEqual(['P1', 'P5']);
      expect(await social(expr({ is_disabled: true }))).toEqual(['P1', 'P5']);
      expect(await social(expr({ is_disabled: '0' }))).toEqual(['P2', 'P3', 'P4', 'P6', 'P7', 'P8']);
      expect(await social(expr({ is_alive: false }))).toEqual(['P8']);
      expect(await social(expr({ sex: 'F' }))).toEqual(['P1', 'P3', 'P5', 'P7']);
      expect(await social(expr({ marital_status: 'married' }))).toEqual(['P1', 'P2', 'P7']);
      expect(await social(expr({ age: '60' }))).toEqual(['P4']);
      expect(await social(expr({ birth_date: '2010-02-14T00:00:00Z' }))).toEqual(['P3']);
      expect(await social(expr({ birth_date: '14.02.2010' }))).toEqual(['P3']);
    });

    it('age maps to birth-date ranges at today (birthdays today and tomorrow)', async () => {
      expect(await social(expr({ age: { $gte: 60 } }))).toEqual(['P1', 'P2', 'P4']);
      expect(await social(expr({ age: { $gt: 60 } }))).toEqual(['P1', 'P2']);
      expect(await social(expr({ age: 59 }))).toEqual(['P5']);
      expect(await social(expr({ age: { $lt: 60 } }))).toEqual(['P3', 'P5', 'P6', 'P7']);
      expect(await social(expr({ age: { $gt: 59.5 } }))).toEqual(['P1', 'P2', 'P4']);
      expect(await social(expr({ age: 59.5 }))).toEqual([]);
      expect(await social(expr({ age: { $gte: 30, $lte: 35 } }))).toEqual(['P6', 'P7']);
      // A day later P5 turns 60.
      expect(await matches('social', expr({ age: 60 }), { now: new Date('2026-01-02T00:00:00Z') })).toEqual([
        'P4',
        'P5',
      ]);
    });

    it('area matches the area and its sub-areas (LIKE wildcards in codes are escaped)', async () => {
      expect(await social(expr({ area: 'KL-01' }))).toEqual(['P1', 'P2', 'P3']);
      expect(await social(expr({ area: 'KL-01-A' }))).toEqual(['P1', 'P2', 'P3']);
      expect(await social(expr({ location: 'KL' }))).toEqual(['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7']);
      expect(await social(expr({ area: 'KL_3' }))).toEqual(['P6']);
      expect(await social(expr({ area: 'KLA3' }))).toEqual(['P7']);
      expect(await social(expr({ area: { $in: ['KL-02', 'KL_3'] } }))).toEqual(['P4', 'P5', 'P6']);
      expect(await social(expr({ area: { $nin: ['KL-01'] } }))).toEqual(['P4', 'P5', 'P6', 'P7', 'P8']);
      expect(await social(expr({ area: 'NOWHERE' }))).toEqual([]);
    });

    it('identifiers as attributes', async () => {
      expect(await social(expr({ identifier: 'BRN-2010-1' }))).toEqual(['P3']);
      expect(await social(expr({ UIN: { $in: ['100001', '100004'] } }))).toEqual(['P1', 'P4']);
      expect(await social(expr({ 'identifier.NID': { $exists: true } }))).toEqual(['P2']);
      expect(await social(expr({ 'member_identifier.UIN': '100006' }))).toEqual(['P6']);
    });
  });

  describe('record types', () => {
    it('groups: group_size, poverty_score, group_type, area', async () => {
      const group = (q: unknown) => matches('social', expr(q, { reg_record_type: 'Group' }));
      expect(await group({ group_size: { $gte: 2 } })).toEqual(['HH-1', 'HH-2', 'HH-3']);
      expect(await group({ group_size: '3' })).toEqual(['HH-1']);
      expect(await group({ group_size: 0 })).toEqual(['HH-4']);
      expect(await group({ group_size: { $gt: 2.5 } })).toEqual(['HH-1']);
      expect(await group({ poverty_score: { $lt: 5 } })).toEqual(['HH-3']);
      expect(await group({ poverty_score: { $lte: '12.5' } })).toEqual(['HH-1', 'HH-3']);
      expect(await group({ poverty_score: { $exists: false } })).toEqual(['HH-4']);
      expect(await group({ group_type: 'family' })).toEqual(['HH-2']);
      expect(await group({ group_type: '2' })).toEqual(['HH-1', 'HH-3', 'HH-4']);
      expect(await group({ area: 'KL-01' })).toEqual(['HH-1']);
      expect(await group({ 'group.registration_date': { $gte: '2022-01-01' } })).toEqual(['HH-3', 'HH-4']);
    });

    it('resolution order: record_type, reg_record_type, response_entity, collection, default', async () => {
      const q = { query: { collection: 'Group', query: {} } };
      const kind = async (more: Criteria) => (await run('social', { query_type: 'expression', ...q, ...more })).type;
      expect(await kind({ record_type: 'Member', reg_record_type: 'Group' })).toBe('Member');
      expect(await kind({ reg_record_type: 'Person', response_entity: 'Group' })).toBe('Member');
      expect(await kind({ response_entity: 'Member' })).toBe('Member');
      expect(await kind({})).toBe('Group');
      expect((await run('social', expr({}))).type).toBe('Member');
      expect((await run('social', expr({}, { reg_record_type: 'spdci-extensions-dci:Household' }))).type).toBe('Group');
      expect((await run('social', expr({}, { reg_record_type: 'SRPerson' }))).kind).toBe('individual');
    });

    it('CRVS persons: event_type, place_of_birth, death_date, registration_date', async () => {
      const crvs = (criteria: unknown) => matches('crvs', criteria);
      expect(await crvs(expr({ event_type: 'live_birth' }))).toEqual(['P3', 'P6']);
      expect(await crvs(expr({ event_type: 'LiveBirth' }))).toEqual(['P3', 'P6']);
      expect(await crvs(expr({ event_type: 'marriage' }))).toEqual(['P6', 'P7']);
      expect(await crvs(expr({ event_type: { $in: ['death', 'divorce'] } }))).toEqual(['P4', 'P8']);
      expect(await crvs(expr({ event_type: { $ne: 'live_birth' } }))).toEqual(['P1', 'P2', 'P4', 'P5', 'P7', 'P8']);
      expect(await crvs(expr({ event_type: { $exists: false } }))).toEqual(['P1', 'P2', 'P5']);
      expect(await crvs(expr({ place_of_birth: 'kenyatta hospital' }))).toEqual(['P3']);
      expect(await crvs(expr({ death_date: { $gte: '2024-01-01' } }))).toEqual(['P8']);
      const compliance = [
        {
          expression1: p('registration_date', 'gte', '2020-01-01'),
          condition: 'and',
          expression2: p('gender', 'eq', 'male'),
        },
      ];
      expect(await crvs(pred(compliance))).toEqual(['P2', 'P4', 'P6']);
      expect((await run('crvs', expr({}))).type).toBe('Person');
    });

    it('IBR beneficiaries: conditions hold on one enrollment', async () => {
      const ibr = (criteria: unknown) => matches('ibr', criteria);
      expect(await ibr(expr({}))).toEqual(['P1', 'P2', 'P6', 'P7']);
      expect(await ibr(expr({ programme: 'OAP' }))).toEqual(['P1', 'P2', 'P7']);
      expect(await ibr(expr({ programme_code: 'oap' }))).toEqual(['P1', 'P2', 'P7']);
      expect(await ibr(expr({ enrollment_status: 'active' }))).toEqual(['P1', 'P2']);
      expect(await ibr(expr({ enrolment_status: '1' }))).toEqual(['P1', 'P2']);
      // P2 has an active CT-OVC and a suspended OAP enrollment: no single active OAP one.
      expect(await ibr(expr({ programme: 'OAP', enrollment_status: 'active' }))).toEqual(['P1']);
      expect(await ibr(expr({ enrollment_date: { $lt: '2022-01-01' } }))).toEqual(['P1', 'P2']);
      expect(await ibr(expr({ sex: 'female' }))).toEqual(['P1', 'P7']);
      expect(await ibr(expr({ programme: 'OAP' }, { reg_record_type: 'Group' }))).toEqual([]);
      expect(await ibr(expr({ programme: 'CT-OVC' }, { reg_record_type: 'Group' }))).toEqual(['HH-1']);
      expect((await run('ibr', expr({}))).type).toBe('Beneficiary');
    });

    it('DR disabled persons: conditions hold on one assessment', async () => {
      const dr = (criteria: unknown) => matches('dr', criteria);
      expect(await dr(expr({}))).toEqual(['P1', 'P5', 'P6']);
      expect(await dr(expr({ disability_type: 'hearing' }))).toEqual(['P5', 'P6']);
      expect(await dr(expr({ disability_type: 'hearing', functional_severity: { $gte: 2 } }))).toEqual(['P6']);
      expect(await dr(expr({ functional_severity: { $gte: '3' } }))).toEqual(['P1', 'P5']);
      expect(await dr(expr({ disability_status: 'approved' }))).toEqual(['P1', 'P5']);
      expect(await dr(expr({ 'disability_details.impairment_type': 'VISUAL' }))).toEqual(['P1']);
      expect(await dr(expr({ 'personal_details.demographic_info.sex': 'female' }))).toEqual(['P1', 'P5']);
      expect((await run('dr', expr({}))).type).toBe('DisabledPerson');
    });

    it('FR farmers: farm_size, crop_type, irrigation_type, livestock', async () => {
      const fr = (criteria: unknown) => matches('fr', criteria);
      expect(await fr(expr({}))).toEqual(['P4', 'P5']);
      expect(await fr(expr({ farm_size: { $gte: 5 } }))).toEqual(['P5']);
      expect(await fr(pred([{ expression1: p('land_size', 'eq', '2.5') }]))).toEqual(['P4']);
      expect(await fr(expr({ crop_type: 'maize' }))).toEqual(['P4']);
      expect(await fr(expr({ crop_type: { $in: ['rice', 'beans'] } }))).toEqual(['P4', 'P5']);
      expect(await fr(expr({ crop_type: { $ne: 'maize' } }))).toEqual(['P5']);
      expect(await fr(expr({ irrigation_type: 'Flood' }))).toEqual(['P5']);
      expect(await fr(expr({ livestock: 'cattle' }))).toEqual(['P4']);
      expect(await fr(expr({ livestock: { $exists: false } }))).toEqual(['P5']);
      expect(await fr(expr({ 'farm_details.land_size': { $lt: 3 } }))).toEqual(['P4']);
      expect((await run('fr', expr({}))).type).toBe('Farmer');
    });

    it('rejects a record type the domain does not serve', async () => {
      await expect(run('dr', expr({}, { reg_record_type: 'Group' }))).rejects.toMatchObject(
        rejected('rjct.search_criteria.invalid'),
      );
      await expect(run('social', expr({}, { reg_record_type: 'Farmer' }))).rejects.toMatchObject(
        rejected('rjct.search_criteria.invalid'),
      );
      await expect(run('social', expr({}, { record_type: 7 }))).rejects.toMatchObject(
        rejected('rjct.search_criteria.invalid'),
      );
    });
  });

  describe('sort and pagination', () => {
    it('sorts asc/desc with missing values last, then by id', async () => {
      const byBirth = await run('social', expr({}, { sort: [{ attribute_name: 'birth_date', sort_order: 'desc' }] }));
      expect(byBirth.names).toEqual(['P3', 'P7', 'P6', 'P5', 'P4', 'P1', 'P2', 'P8']);
      const byAge = await run('social', expr({}, { sort: [{ attribute_name: 'age', sort_order: 'asc' }] }));
      expect(byAge.names).toEqual(['P3', 'P7', 'P6', 'P5', 'P4', 'P1', 'P2', 'P8']);
      const bySurname = await run('social', expr({ sex: 'female' }, { sort: [{ attribute_name: 'name.surname' }] }));
      // Hassan, mwangi, then the two Otienos in id order (case-insensitive sort).
      expect(bySurname.names.slice(0, 2)).toEqual(['P7', 'P5']);
      expect(bySurname.names.slice(2)).toEqual(byId(['P1', 'P3']));
    });

    /** Names in the order of their ids (the tie-breaker). */
    function byId(names: string[]): string[] {
      const ids = [...label.entries()].filter(([, n]) => names.includes(n));
      return ids.sort(([a], [b]) => (a < b ? -1 : 1)).map(([, n]) => n);
    }

    it('sorts on several keys', async () => {
      const found = await run(
        'social',
        expr(
          {},
          {
            sort: [
              { attribute_name: 'sex', sort_order: 'asc' },
              { attribute_name: 'age', sort_order: 'desc' },
            ],
          },
        ),
      );
      expect(found.names).toEqual(['P1', 'P5', 'P7', 'P3', 'P2', 'P4', 'P6', 'P8']);
      const groups = await run(
        'social',
        expr(
          {},
          {
            reg_record_type: 'Group',
            sort: [
              { attribute_name: 'group_type', sort_order: 'desc' },
              { attribute_name: 'poverty_score', sort_order: 'asc' },
            ],
          },
        ),
      );
      expect(groups.names).toEqual(['HH-3', 'HH-1', 'HH-4', 'HH-2']);
    });

    it('ties keep a stable order across pages', async () => {
      const sort = [{ attribute_name: 'registration_date', sort_order: 'asc' }];
      const whole = (await run('social', expr({}, { sort }))).names;
      const pages: string[] = [];
      for (let page = 1; page <= 4; page++) {
        const found = await run('social', expr({}, { sort }), { pageSize: 2, pageNumber: page });
        expect(found.total).toBe(8);
        pages.push(...found.names);
      }
      expect(pages).toEqual(whole);
      expect(whole[0]).toBe('P8');
      expect(whole.slice(1, 4).sort()).toEqual(['P1', 'P2', 'P3']);
    });

    it('pages: partial last page, beyond the end, and counts', async () => {
      const sort = [{ attribute_name: 'birth_date', sort_order: 'desc' }];
      const page = (n: number, size = 3) => run('social', expr({}, { sort }), { pageSize: size, pageNumber: n });
      expect(await page(1)).toMatchObject({ names: ['P3', 'P7', 'P6'], total: 8 });
      expect(await page(2)).toMatchObject({ names: ['P5', 'P4', 'P1'], total: 8 });
      expect(await page(3)).toMatchObject({ names: ['P2', 'P8'], total: 8 });
      expect(await page(4)).toMatchObject({ names: [], total: 8 });
      expect(await page(1000)).toMatchObject({ names: [], total: 8 });
      expect(await page(1, 8)).toMatchObject({ total: 8 });
      expect(await page(2, 4)).toMatchObject({ names: ['P4', 'P1', 'P2', 'P8'], total: 8 });
      expect(await run('social', expr({ sex: 'female' }), { pageSize: 1, pageNumber: 2 })).toMatchObject({ total: 4 });
      expect(await run('social', expr({ sex: 'other' }))).toMatchObject({ names: [], total: 0 });
    });

    it('bad pages are rjct.pagination.invalid', async () => {
      await expect(run('social', expr({}), { pageSize: 0 })).rejects.toMatchObject(rejected('rjct.pagination.invalid'));
      await expect(run('social', expr({}), { pageNumber: 0 })).rejects.toMatchObject(
        rejected('rjct.pagination.invalid'),
      );
      await expect(run('social', expr({}), { pageSize: 1.5 })).rejects.toMatchObject(
        rejected('rjct.pagination.invalid'),
      );
    });

    it('bad sorts are rjct.sort.invalid', async () => {
      const bad = async (sort: unknown, more: Criteria = {}) =>
        expect(run('social', expr({}, { sort, ...more }))).rejects.toMatchObject(rejected('rjct.sort.invalid'));
      await bad([{ attribute_name: 'shoe_size' }]);
      await bad([{ attribute_name: 'area' }]); // allowed in queries, not sortable
      await bad([{ attribute_name: 'poverty_score' }]); // a Group attribute, not a Member one
      await bad([{ attribute_name: 'birth_date', sort_order: 'sideways' }]);
      await bad({ attribute_name: 'birth_date' });
      await bad([{ sort_order: 'asc' }]);
    });
  });

  describe('consent', () => {
    it('restricts results and counts to people with a given, unexpired, unrevoked consent', async () => {
      // sender-a: P1 valid; P2 revoked; P4 expired; P5 valid until 2030; P6 given only in 2027; P7 valid.
      const found = await run('social', expr({}), { consentSenderId: 'sender-a' });
      expect([...found.names].sort()).toEqual(['P1', 'P5', 'P7']);
      expect(found.total).toBe(3);
      expect(await matches('social', expr({}), { consentSenderId: 'sender-b' })).toEqual(['P5']);
      expect(await matches('social', expr({}), { consentSenderId: 'sender-c' })).toEqual([]);
      expect(await matches('social', expr({ sex: 'female' }), { consentSenderId: 'sender-a' })).toEqual([
        'P1',
        'P5',
        'P7',
      ]);
      // In mid-2024 P2 had not revoked yet and P4's consent had not expired.
      expect(
        await matches('social', expr({}), { consentSenderId: 'sender-a', now: new Date('2024-06-01T00:00:00Z') }),
      ).toEqual(['P1', 'P2', 'P4', 'P5', 'P7']);
      const paged = await run('social', expr({}), { consentSenderId: 'sender-a', pageSize: 1, pageNumber: 1 });
      expect(paged).toMatchObject({ total: 3 });
      expect(paged.names).toHaveLength(1);
    });

    it("households follow their head's consent", async () => {
      expect(await matches('social', expr({}, { reg_record_type: 'Group' }), { consentSenderId: 'sender-a' })).toEqual([
        'HH-1',
      ]);
      expect(await matches('social', expr({}, { reg_record_type: 'Group' }), { consentSenderId: 'sender-b' })).toEqual(
        [],
      );
    });

    it('a purpose narrows to consents for that purpose or for any', async () => {
      expect(await matches('social', expr({}), { consentSenderId: 'sender-a', consentPurpose: 'statistics' })).toEqual([
        'P1',
        'P5',
        'P7',
      ]);
    });
  });

  describe('rejections and injection attempts', () => {
    const invalid = rejected('rjct.search_criteria.invalid');

    it('unknown or misplaced attributes, operators and values', async () => {
      await expect(run('social', expr({ shoe_size: 42 }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ poverty_score: 3 }))).rejects.toMatchObject(invalid); // not a Member attribute
      await expect(run('social', expr({ farm_size: 3 }))).rejects.toMatchObject(invalid); // FR only
      await expect(run('social', expr({ 'unknown_wrapper.sex': 'male' }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ sex: { $gt: 'male' } }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ sex: 'robot' }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ birth_date: 'yesterday' }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ birth_date: '2023-02-30' }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ age: 'old' }))).rejects.toMatchObject(invalid);
      await expect(run('social', expr({ is_disabled: 'maybe' }))).rejects.toMatchObject(invalid);
      await expect(run('social', pred([{ expression1: p('age', 'like', '5') }]))).rejects.toMatchObject(invalid);
      await expect(
        run('social', { query_type: 'graphql', query: { value: { expression: '{ x }' } } }),
      ).rejects.toMatchObject(invalid);
      await expect(run('social', { query_type: 'sql', query: 'select 1' })).rejects.toMatchObject(invalid);
      await expect(run('social', 'not an object')).rejects.toMatchObject(invalid);
    });

    it('injection in attribute names, values, sort names and identifier types', async () => {
      const names = [
        "sex = 'male' or 1=1 --",
        'sex; drop table individual; --',
        'i.sex',
        'sex)--',
        'demographic_info.sex; delete from consent',
        'identifier.UIN\u0000',
      ];
      for (const name of names) {
        await expect(run('social', expr({ [name]: 'male' }))).rejects.toMatchObject(invalid);
        await expect(run('social', expr({}, { sort: [{ attribute_name: name }] }))).rejects.toMatchObject(
          rejected('rjct.sort.invalid'),
        );
      }
      await expect(
        run(
          'social',
          expr({}, { sort: [{ attribute_name: 'birth_date', sort_order: 'desc; drop table individual' }] }),
        ),
      ).rejects.toMatchObject(rejected('rjct.sort.invalid'));
      // Values are plain values: they match only themselves.
      expect(await social(expr({ given_name: "x' or '1'='1" }))).toEqual([]);
      expect(await social(expr({ given_name: "Robert'); DROP TABLE individual; --" }))).toEqual(['P8']);
      expect(await social(expr({ surname: "O'Brien" }))).toEqual(['P8']);
      expect(await social(expr({ area: "KL' or '1'='1" }))).toEqual([]);
      expect(await social(expr({ area: '%' }))).toEqual([]);
      expect(await social(expr({ identifier: "x' or 1=1 --" }))).toEqual([]);
      expect(await social(idv("UIN' or '1'='1", '100001'))).toEqual([]);
      expect(await social(idv('UIN', "100001' or '1'='1"))).toEqual([]);
      expect(await social(expr({ "identifier.UIN'--": '100001' }))).toEqual([]);
      expect(await matches('fr', expr({ livestock: '"}]\' or 1=1 --' }))).toEqual([]);
      await expect(run('social', expr({ sex: "male' or '1'='1" }))).rejects.toMatchObject(invalid);
      expect(await matches('social', expr({}), { consentSenderId: "sender-a' or '1'='1" })).toEqual([]);
      // Everything is still there.
      const { rows } = await sql<{
        people: string;
        groups: string;
        consents: string;
      }>`select (select count(*) from individual) as people, (select count(*) from household) as groups, (select count(*) from consent) as consents`.execute(
        ctx.database.db,
      );
      expect(rows[0]).toEqual({ people: '8', groups: '4', consents: '7' });
    });

    it('query size is bounded', async () => {
      let deep: Record<string, unknown> = { sex: 'male' };
      for (let i = 0; i < 12; i++) deep = { $not: deep };
      await expect(run('social', expr(deep))).rejects.toMatchObject(invalid);
      const wide = { $or: Array.from({ length: 101 }, (_, i) => ({ given_name: `n${i}` })) };
      await expect(run('social', expr(wide))).rejects.toMatchObject(invalid);
    });
  });
});
