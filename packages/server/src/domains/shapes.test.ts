/**
 * Record shapes per domain (contract §7, dci-brief §7) on a small registry whose answers are
 * known (fixtures/domains.ndjson), on both backends, and the number of queries a load costs.
 * People are named by their UIN: P1 (200001) heads HH-1 with her spouse P2 (200002) and their
 * child P3 (200003, born to P1 and P2); P4 (200004) is dead. P1 has two disability assessments,
 * two enrollments (OAP with two benefits, CT suspended) and a farm F-1; HH-1 is enrolled in CT.
 */
import { fileURLToPath } from 'node:url';
import { sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Domain } from '../config.js';
import { search, type SearchPorts } from '../engine/search.js';
import type { SenderInfo } from '../engine/inbound.js';
import { RegistryReader } from '../registry/reader.js';
import { importFile } from '../registry/import.js';
import { runSearch } from '../search/execute.js';
import { describeBackends } from '../test-support/backends.js';
import { cutFields, FIELD_PATHS, type DciRecord } from './records.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/domains.ndjson', import.meta.url));
const URN = /^urn:uuid:[0-9a-f-]{36}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Counts the queries run through the Kysely instance it is plugged into. */
class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    this.count++;
    return args.result;
  }
}

const uin = (value: string) => ({ identifier_type: 'UIN', identifier_value: value });

/** A sender that may search every domain and receive every field. */
const sender: SenderInfo = {
  id: 's',
  active: true,
  operations: ['search'],
  domains: ['social', 'crvs', 'ibr', 'dr', 'fr'],
  signaturePolicy: 'optional',
  fields: null,
  legalBasis: 'statute',
  rateLimitPerMinute: null,
  callbackAllow: [],
  notifyUri: null,
};

describeBackends('record shapes per domain (domains fixture)', (ctx) => {
  const id: Record<string, string> = {};
  const counter = new QueryCounter();
  let reader: RegistryReader;

  beforeAll(async () => {
    const report = await importFile(ctx.database, FIXTURE);
    expect(report.failed, JSON.stringify(report.errors)).toBe(0);
    const { rows } = await sql<{ id_type: string; id_value: string; entity_id: string }>`
      select id_type, id_value, entity_id from identifier where id_type in ('UIN', 'HHID')`.execute(ctx.database.db);
    for (const r of rows) id[r.id_type === 'UIN' ? `P${Number(r.id_value) - 200000}` : r.id_value] = r.entity_id;
    reader = new RegistryReader(ctx.database.db.withPlugin(counter));
  });

  const person = async (domain: Domain, recordType: string, name: string) =>
    (await reader.load({ domain, recordType, recordKind: 'individual', ids: [id[name]!] })).get(id[name]!)!;

  const p1Member = () => ({
    '@id': `urn:uuid:${id.P1}`,
    '@type': 'Member',
    member_identifier: [{ identifier_type: 'NID', identifier_value: 'N-1' }, uin('200001')],
    demographic_info: {
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'Person',
      identifier: [{ identifier_type: 'NID', identifier_value: 'N-1' }, uin('200001')],
      name: { given_name: 'Amina', surname: 'Otieno' },
      sex: 'female',
      birth_date: '1960-05-01',
      address: [{ address_line_1: '12 Moi Ave', locality: 'Westlands', country_code: 'KE', sub_region_code: 'KL-01' }],
      phone_number: ['+254700000001'],
      registration_date: '2020-01-15',
      last_updated: expect.stringMatching(ISO),
    },
    is_disabled: true,
    marital_status: 'M',
    registration_date: '2020-01-15',
    last_updated: expect.stringMatching(ISO),
  });

  it('SR: a person is a Member whose demographic_info is the Person, as before', async () => {
    expect(await person('social', 'Member', 'P1')).toEqual(p1Member());
  });

  it('SR: a household is a Group with its head first among its members', async () => {
    const group = (
      await reader.load({ domain: 'social', recordType: 'Group', recordKind: 'household', ids: [id['HH-1']!] })
    ).get(id['HH-1']!)!;
    expect(group).toEqual({
      '@id': `urn:uuid:${id['HH-1']}`,
      '@type': 'Group',
      group_identifier: [{ identifier_type: 'HHID', identifier_value: 'HH-1' }],
      group_type: '2',
      poverty_score: 12.5,
      poverty_score_type: 'PMT',
      group_head_info: p1Member(),
      group_size: 3,
      member_list: [p1Member(), expect.anything(), expect.anything()],
      registration_date: '2020-01-15',
      last_updated: expect.stringMatching(ISO),
    });
    const others = (group.member_list as DciRecord[]).slice(1).map((m) => m['@id']);
    expect(others.sort()).toEqual([`urn:uuid:${id.P2}`, `urn:uuid:${id.P3}`].sort());
  });

  it('CRVS: a Person with birth place and parents from the live birth', async () => {
    expect(await person('crvs', 'Person', 'P3')).toEqual({
      '@id': `urn:uuid:${id.P3}`,
      '@type': 'Person',
      identifier: [{ identifier_type: 'BRN', identifier_value: 'BRN-2010-1' }, uin('200003')],
      name: { given_name: 'Grace', surname: 'Otieno' },
      sex: 'female',
      birth_date: '2010-02-14',
      birth_place: {
        '@type': 'Place',
        name: 'Kenyatta Hospital',
        contained_in_place: { '@type': 'Place', name: 'North' },
      },
      marital_status: 'S',
      parent1_identifier: uin('200001'),
      parent2_identifier: uin('200002'),
      registration_date: '2020-01-15',
      last_updated: expect.stringMatching(ISO),
    });
  });

  it('CRVS: marriages count for the subject and the partner; a death gives date and place', async () => {
    expect(await person('crvs', 'Person', 'P2')).toMatchObject({ '@type': 'Person', marriage_date: ['1985-06-06'] });
    const p1 = await person('crvs', 'Person', 'P1');
    expect(p1).toMatchObject({ marriage_date: ['1985-06-06'], marital_status: 'M' });
    expect(p1).not.toHaveProperty('member_identifier');
    expect(p1).not.toHaveProperty('birth_place');
    expect(await person('crvs', 'Person', 'P4')).toMatchObject({
      death_date: '2024-02-01',
      death_place: { '@type': 'Place', name: 'Kisumu' },
    });
  });

  it('IBR: a Beneficiary with one Programme per enrollment, its status, dates and latest benefits', async () => {
    expect(await person('ibr', 'Beneficiary', 'P1')).toEqual({
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'Beneficiary',
      assistance_unit: '1',
      member: p1Member(),
      programme_identifier: [
        {
          '@type': 'Programme',
          programme_identifier: 'CT',
          programme_name: 'Cash transfer',
          enrollment_date: '2019-06-01',
          enrollment_status: '4',
          status_change_date: ['2022-01-01'],
        },
        {
          '@type': 'Programme',
          programme_identifier: 'OAP',
          programme_name: 'Old age pension',
          programme_description: 'Monthly pension from 60',
          implementing_institution: 'Ministry of Labour',
          programme_type: 'social_assistance',
          enrollment_date: '2021-03-01',
          enrollment_status: '1',
          benefits: [
            {
              '@type': 'Benefit',
              benefit_type: '1',
              benefit_date: '2021-05-01',
              benefit_value: 'USD 50.5',
              benefit_description: 'May',
            },
            { '@type': 'Benefit', benefit_type: '1', benefit_date: '2021-04-01', benefit_value: 'USD 50' },
          ],
        },
      ],
    });
  });

  it('IBR: a household is a Group carrying its own enrollments', async () => {
    const group = (
      await reader.load({ domain: 'ibr', recordType: 'Group', recordKind: 'household', ids: [id['HH-1']!] })
    ).get(id['HH-1']!)!;
    expect(group).toMatchObject({
      '@type': 'Group',
      group_head_info: { '@type': 'Member' },
      programme_identifier: [
        {
          '@type': 'Programme',
          programme_identifier: 'CT',
          programme_name: 'Cash transfer',
          enrollment_date: '2021-01-01',
          enrollment_status: '1',
        },
      ],
    });
  });

  it('DR: a DisabledPerson with disability info, details per assessment and programme enrolments', async () => {
    const { personal_details, ...rest } = await person('dr', 'DisabledPerson', 'P1');
    expect(personal_details).toEqual({
      ...p1Member(),
      disability_info: [
        { disability_limitation_type: 'visual', functional_severity: 3 },
        { disability_limitation_type: 'hearing', functional_severity: 1 },
      ],
    });
    expect(rest).toEqual({
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'DisabledPerson',
      disability_status: '0',
      disability_status_level: 3,
      disability_details: [
        {
          '@type': 'DisabilityDetails',
          impairment_type: 'visual',
          impairment_cause: 'illness',
          age_on_set: '2',
          functional_severity: 3,
          disability_status: '0',
          disability_status_level: 3,
          assessed_on: '2021-01-01',
        },
        { '@type': 'DisabilityDetails', impairment_type: 'hearing', functional_severity: 1, disability_status: '2' },
      ],
      programs_enrolments: [
        { '@type': 'Programme', programme_identifier: 'CT', programme_name: 'Cash transfer' },
        { '@type': 'Programme', programme_identifier: 'OAP', programme_name: 'Old age pension' },
      ],
      registration_date: '2020-01-15',
      last_updated: expect.stringMatching(ISO),
    });
  });

  it('FR: a Farmer with one FarmInfo per farm, crops and livestock under farming_activities', async () => {
    const farmer = await person('fr', 'Farmer', 'P1');
    expect(farmer).toEqual({
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'Farmer',
      farmer_personal_details: p1Member(),
      farm_type: 'small',
      farm_details: [
        {
          '@id': expect.stringMatching(URN),
          '@type': 'FarmInfo',
          identifier: [{ identifier_type: 'FARM', identifier_value: 'F-1' }],
          farm_type: 'small',
          location: { '@type': 'Place', name: 'North' },
          land_tenure: 'customary',
          land_size: 2.5,
          measurment: '0',
          irrigation_type: 'drip',
          farming_activities: {
            crop_production: [{ crop_type_name: 'maize' }, { crop_type_name: 'beans' }],
            animal_production: [{ type: 'cattle', count: 3 }],
          },
          registration_date: '2021-01-01',
          last_updated: expect.stringMatching(ISO),
        },
      ],
      registration_date: '2020-01-15',
      last_updated: expect.stringMatching(ISO),
    });
  });

  it('a page of people is ONE query in every shape, keyed in the order of the ids given', async () => {
    const ids = [id.P4!, id.P2!, id.P1!, id.P3!];
    for (const [domain, recordType] of [
      ['social', 'Member'],
      ['crvs', 'Person'],
      ['ibr', 'Beneficiary'],
      ['dr', 'DisabledPerson'],
      ['fr', 'Farmer'],
    ] as const) {
      const before = counter.count;
      const loaded = await reader.load({ domain, recordType, recordKind: 'individual', ids });
      expect(counter.count - before, recordType).toBe(1);
      expect([...loaded.keys()], recordType).toEqual(ids);
      for (const record of loaded.values()) {
        expect(record['@type']).toBe(recordType);
        expect(record['@id']).toMatch(URN);
      }
    }
  });

  it('a page of households is two queries (one without members); unknown ids are left out; none costs nothing', async () => {
    const { rows } = await sql<{ id: string }>`select id from household`.execute(ctx.database.db);
    expect(rows).toHaveLength(1);
    let before = counter.count;
    const missing = '01900000-0000-7000-8000-000000000000';
    const groups = await reader.load({
      domain: 'ibr',
      recordType: 'Group',
      recordKind: 'household',
      ids: [missing, id['HH-1']!],
    });
    expect(counter.count - before).toBe(2);
    expect([...groups.keys()]).toEqual([id['HH-1']]);
    before = counter.count;
    expect(
      (await reader.load({ domain: 'social', recordType: 'Group', recordKind: 'household', ids: [missing] })).size,
    ).toBe(0);
    expect(counter.count - before).toBe(1);
    before = counter.count;
    expect(
      (await reader.load({ domain: 'social', recordType: 'Member', recordKind: 'individual', ids: [] })).size,
    ).toBe(0);
    expect(counter.count - before).toBe(0);
  });

  it('search answers carry the record type the search resolved, in its shape', async () => {
    const ports: SearchPorts = {
      find: (input) => runSearch(ctx.database.db, input),
      load: (request) => reader.load(request),
    };
    const expected: Record<Domain, [string, string]> = {
      social: ['Member', 'demographic_info'],
      crvs: ['Person', 'birth_date'],
      ibr: ['Beneficiary', 'member'],
      dr: ['DisabledPerson', 'personal_details'],
      fr: ['Farmer', 'farmer_personal_details'],
    };
    for (const [domain, [type, key]] of Object.entries(expected) as [Domain, [string, string]][]) {
      const outcome = await search(
        {
          transaction_id: 't',
          search_request: [
            {
              reference_id: 'r',
              search_criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: '200001' } },
            },
          ],
        },
        'c',
        { sender, scope: ['search'] },
        ports,
        { domain, defaultPageSize: 10, maxPageSize: 100 },
      );
      const item = outcome.message.search_response[0]!;
      expect(item.status, domain).toBe('succ');
      const records = item.data!.reg_records;
      const record = (domain === 'dr' ? records : (records as DciRecord[])[0]) as DciRecord;
      expect(item.data!.reg_record_type, domain).toBe(type);
      expect(record['@type'], domain).toBe(type);
      expect(record['@id'], domain).toBe(`urn:uuid:${id.P1}`);
      expect(record, domain).toHaveProperty(key);
    }
  });

  it('an idtype-value search reads its person with the lookup: one query, the same answer as lookup then load', async () => {
    const counted = ctx.database.db.withPlugin(counter);
    const twoSteps: SearchPorts = {
      find: (input) => runSearch(counted, input),
      load: (request) => reader.load(request),
    };
    const oneStep: SearchPorts = {
      find: (input) => runSearch(counted, { ...input, holderLookup: (...lookup) => reader.holderOf(...lookup) }),
      load: (request) => reader.load(request),
    };
    const run = async (ports: SearchPorts, domain: Domain, query: object, pageNumber = 1) => {
      const before = counter.count;
      const outcome = await search(
        {
          transaction_id: 't',
          search_request: [
            {
              reference_id: 'r',
              search_criteria: {
                query_type: 'idtype-value',
                query,
                pagination: { page_size: 10, page_number: pageNumber },
              },
            },
          ],
        },
        'c',
        { sender, scope: ['search'] },
        ports,
        { domain, defaultPageSize: 10, maxPageSize: 100 },
      );
      // The answer's timestamp is the only part that differs between two runs.
      const item: Partial<(typeof outcome.message.search_response)[0]> = { ...outcome.message.search_response[0]! };
      delete item.timestamp;
      return { item, queries: counter.count - before };
    };
    const queries: Record<string, number> = {};
    for (const domain of ['social', 'crvs', 'ibr', 'dr', 'fr'] as Domain[]) {
      // P1 and P2 are married (CRVS partner events), P3 has parents, P4 is dead; HH-1 is a household; 999 is nobody.
      for (const query of [
        { type: 'UIN', value: '200001' },
        { type: 'UIN', value: '200002' },
        { type: 'UIN', value: '200003' },
        { type: 'UIN', value: '200004' },
        { type: 'HHID', value: 'HH-1' },
        { type: 'UIN', value: '999' },
      ]) {
        const label = `${domain} ${query.type} ${query.value}`;
        const expected = await run(twoSteps, domain, query);
        const actual = await run(oneStep, domain, query);
        expect(actual.item, label).toEqual(expected.item);
        queries[label] = actual.queries;
        // A later page holds nothing, and costs no record read either way.
        expect((await run(oneStep, domain, query, 2)).item, label).toEqual(
          (await run(twoSteps, domain, query, 2)).item,
        );
      }
    }
    // A person found by identifier in SR and CRVS (record types read straight off the holder): one query.
    expect(queries['social UIN 200001']).toBe(1);
    expect(queries['crvs UIN 200002']).toBe(1);
    expect(queries['social UIN 999']).toBe(1);
    // A household identifier answers with the Group: the holder, then the group's two queries.
    expect(queries['social HHID HH-1']).toBe(3);
  });

  it('cuts the domain shapes to the sender’s fields, keeping @id and @type on the way', async () => {
    const beneficiary = cutFields(await person('ibr', 'Beneficiary', 'P1'), ['sex', 'programme', 'enrolment_status']);
    expect(beneficiary).toEqual({
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'Beneficiary',
      member: {
        '@id': `urn:uuid:${id.P1}`,
        '@type': 'Member',
        demographic_info: { '@id': `urn:uuid:${id.P1}`, '@type': 'Person', sex: 'female' },
      },
      programme_identifier: [
        { '@type': 'Programme', programme_identifier: 'CT', programme_name: 'Cash transfer', enrollment_status: '4' },
        {
          '@type': 'Programme',
          programme_identifier: 'OAP',
          programme_name: 'Old age pension',
          programme_description: 'Monthly pension from 60',
          implementing_institution: 'Ministry of Labour',
          programme_type: 'social_assistance',
          enrollment_status: '1',
        },
      ],
    });

    const farmer = cutFields(await person('fr', 'Farmer', 'P1'), ['crop_type', 'land_size', 'identifier']);
    expect(farmer).toEqual({
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'Farmer',
      farmer_personal_details: {
        '@id': `urn:uuid:${id.P1}`,
        '@type': 'Member',
        member_identifier: [{ identifier_type: 'NID', identifier_value: 'N-1' }, uin('200001')],
        demographic_info: {
          '@id': `urn:uuid:${id.P1}`,
          '@type': 'Person',
          identifier: [{ identifier_type: 'NID', identifier_value: 'N-1' }, uin('200001')],
        },
      },
      farm_details: [
        {
          '@id': expect.stringMatching(URN),
          '@type': 'FarmInfo',
          identifier: [{ identifier_type: 'FARM', identifier_value: 'F-1' }],
          land_size: 2.5,
          measurment: '0',
          farming_activities: { crop_production: [{ crop_type_name: 'maize' }, { crop_type_name: 'beans' }] },
        },
      ],
    });

    const disabled = cutFields(await person('dr', 'DisabledPerson', 'P1'), ['disability_type']);
    expect(disabled).toEqual({
      '@id': `urn:uuid:${id.P1}`,
      '@type': 'DisabledPerson',
      personal_details: {
        '@id': `urn:uuid:${id.P1}`,
        '@type': 'Member',
        demographic_info: { '@id': `urn:uuid:${id.P1}`, '@type': 'Person' },
        disability_info: [{ disability_limitation_type: 'visual' }, { disability_limitation_type: 'hearing' }],
      },
      disability_details: [
        { '@type': 'DisabilityDetails', impairment_type: 'visual' },
        { '@type': 'DisabilityDetails', impairment_type: 'hearing' },
      ],
    });

    const child = cutFields(await person('crvs', 'Person', 'P3'), ['place_of_birth', 'parents', 'gender']);
    expect(child).toEqual({
      '@id': `urn:uuid:${id.P3}`,
      '@type': 'Person',
      sex: 'female',
      birth_place: {
        '@type': 'Place',
        name: 'Kenyatta Hospital',
        contained_in_place: { '@type': 'Place', name: 'North' },
      },
      parent1_identifier: uin('200001'),
      parent2_identifier: uin('200002'),
    });
    // nothing allowed: the ids and types only; an unknown name allows nothing
    expect(cutFields(await person('crvs', 'Person', 'P3'), ['constructor', 'favourite_colour'])).toEqual({
      '@id': `urn:uuid:${id.P3}`,
      '@type': 'Person',
    });
  });
});

describe('FIELD_PATHS', () => {
  it('names every field of contract §7 that a record shows', () => {
    for (const name of [
      'identifier',
      'sex',
      'gender',
      'birth_date',
      'date_of_birth',
      'area',
      'location',
      'registration_date',
      'is_disabled',
      'given_name',
      'surname',
      'marital_status',
      'group_type',
      'group_size',
      'poverty_score',
      'place_of_birth',
      'death_date',
      'event_type',
      'programme',
      'enrollment_status',
      'enrollment_date',
      'disability_type',
      'functional_severity',
      'farm_size',
      'land_size',
      'crop_type',
      'irrigation_type',
      'livestock',
    ])
      expect(FIELD_PATHS[name]?.length, name).toBeGreaterThan(0);
  });

  it('cuts an SR Member as before', () => {
    const member = {
      '@id': 'urn:uuid:1',
      '@type': 'Member',
      member_identifier: [uin('1')],
      demographic_info: {
        '@id': 'urn:uuid:1',
        '@type': 'Person',
        name: { given_name: 'A', surname: 'B' },
        sex: 'male',
      },
      is_disabled: false,
    };
    expect(cutFields(member, ['given_name', 'is_disabled'])).toEqual({
      '@id': 'urn:uuid:1',
      '@type': 'Member',
      demographic_info: { '@id': 'urn:uuid:1', '@type': 'Person', name: { given_name: 'A' } },
      is_disabled: false,
    });
    expect(cutFields(member, ['name', 'given_name'])).toEqual({
      '@id': 'urn:uuid:1',
      '@type': 'Member',
      demographic_info: { '@id': 'urn:uuid:1', '@type': 'Person', name: { given_name: 'A', surname: 'B' } },
    });
    expect(member.demographic_info.name).toEqual({ given_name: 'A', surname: 'B' });
    expect(cutFields(member, null)).toBe(member);
  });

  it('cuts a Group to its own fields and, by the person names, its head and members', () => {
    const person = (n: string) => ({
      '@id': `urn:uuid:${n}`,
      '@type': 'Member',
      demographic_info: { '@id': `urn:uuid:${n}`, '@type': 'Person', sex: 'male', birth_date: '2000-01-01' },
      is_disabled: false,
    });
    const group = {
      '@id': 'urn:uuid:g',
      '@type': 'Group',
      group_identifier: [{ identifier_type: 'HHID', identifier_value: 'HH-1' }],
      group_type: '2',
      poverty_score: 10,
      group_head_info: person('1'),
      group_size: 2,
      member_list: [person('1'), person('2')],
    };
    const sexOnly = { '@id': 'urn:uuid:1', '@type': 'Person', sex: 'male' };
    expect(cutFields(group, ['group_size', 'sex'])).toEqual({
      '@id': 'urn:uuid:g',
      '@type': 'Group',
      group_size: 2,
      group_head_info: { '@id': 'urn:uuid:1', '@type': 'Member', demographic_info: sexOnly },
      member_list: [
        { '@id': 'urn:uuid:1', '@type': 'Member', demographic_info: sexOnly },
        { '@id': 'urn:uuid:2', '@type': 'Member', demographic_info: { ...sexOnly, '@id': 'urn:uuid:2' } },
      ],
    });
    expect(cutFields(group, ['poverty_score'])).toEqual({ '@id': 'urn:uuid:g', '@type': 'Group', poverty_score: 10 });
  });
});
