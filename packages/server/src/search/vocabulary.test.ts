import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { parseQuery, parseSort, type QueryNode } from '@opendci/protocol';
import { DOMAINS } from '../config.js';
import { describeBackends } from '../test-support/backends.js';
import { compileSearch } from './compile.js';
import { coerceBoolean, coerceDate, coerceNumber } from './vocabulary.js';
import {
  VOCABULARY,
  findRecordType,
  resolveAttribute,
  resolveRecordType,
  yearsBefore,
  type RecordTypeDef,
} from './vocabulary.js';

const DOCS = readFileSync(fileURLToPath(new URL('../../../../docs/search.md', import.meta.url)), 'utf8');
const member = VOCABULARY.social.individual;
const group = VOCABULARY.social.household!;

/** A Kysely that only compiles (no database). */
const compiler = new Kysely<unknown>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

function compiled(type: RecordTypeDef, node: QueryNode, sort = parseSort(undefined)) {
  const search = compileSearch({ recordType: type, node, sort, pageSize: 10, pageNumber: 2, today: '2026-01-01' });
  return { page: search.page.compile(compiler), count: search.count.compile(compiler), search };
}

describe('vocabulary', () => {
  it('every domain serves its record types', () => {
    for (const domain of DOMAINS) {
      expect(VOCABULARY[domain].domain).toBe(domain);
      expect(VOCABULARY[domain].individual.kind).toBe('individual');
    }
    expect(VOCABULARY.social.household?.name).toBe('Group');
    expect(VOCABULARY.ibr.household?.name).toBe('Group');
    expect(VOCABULARY.crvs.household).toBeUndefined();
  });

  it('resolves names, aliases and dotted response-shape paths case-insensitively', () => {
    const name = (type: RecordTypeDef, n: string) => resolveAttribute(type, n).name;
    expect(name(member, 'gender')).toBe('sex');
    expect(name(member, 'Demographic_Info.Sex')).toBe('sex');
    expect(name(member, 'demographic_info.person.sex')).toBe('sex');
    expect(name(member, 'demographic_info.birth_date')).toBe('birth_date');
    expect(name(member, 'date_of_birth')).toBe('birth_date');
    expect(name(member, 'name.surname')).toBe('surname');
    expect(name(member, 'demographic_info.name.given_name')).toBe('given_name');
    expect(name(member, 'location')).toBe('area');
    expect(name(member, 'UIN')).toBe('identifier.UIN');
    expect(name(member, 'identifier.NationalID')).toBe('identifier.NationalID');
    expect(name(member, 'demographic_info.identifier.BRN')).toBe('identifier.BRN');
    expect(name(group, 'size')).toBe('group_size');
    expect(name(group, 'group.poverty_score')).toBe('poverty_score');
    expect(name(VOCABULARY.dr.individual, 'personal_details.demographic_info.sex')).toBe('sex');
    expect(name(VOCABULARY.dr.individual, 'disability_details.impairment_type')).toBe('disability_type');
    expect(name(VOCABULARY.fr.individual, 'land_size')).toBe('farm_size');
    expect(name(VOCABULARY.fr.individual, 'farm_details.farming_activities.crop_production.crop_type_name')).toBe(
      'crop_type',
    );
    expect(name(VOCABULARY.ibr.individual, 'enrolment_date')).toBe('enrollment_date');
    expect(name(VOCABULARY.crvs.individual, 'birth_place')).toBe('place_of_birth');
  });

  it('rejects names outside the allow-list of the record type', () => {
    const bad = (type: RecordTypeDef, n: string) =>
      expect(() => resolveAttribute(type, n)).toThrow(
        expect.objectContaining({ code: 'rjct.search_criteria.invalid' }),
      );
    bad(member, 'poverty_score');
    bad(member, 'shoe_size');
    bad(member, 'sex.demographic_info');
    bad(member, 'foo.sex');
    bad(member, 'identifier.');
    bad(member, 'given name');
    bad(member, 'x'.repeat(300));
    bad(group, 'sex');
    bad(VOCABULARY.social.individual, 'farm_size');
    bad(VOCABULARY.crvs.individual, 'programme');
  });

  it('record types: names, prefixes and resolution order', () => {
    expect(findRecordType('social', 'Household')?.name).toBe('Group');
    expect(findRecordType('social', 'spdci-extensions-dci:Member')?.name).toBe('Member');
    expect(findRecordType('dr', 'PWD_Person')?.name).toBe('DisabledPerson');
    expect(findRecordType('fr', 'Farmer')?.name).toBe('Farmer');
    expect(findRecordType('dr', 'Group')).toBeUndefined();
    expect(resolveRecordType('social', {}).explicit).toBe(false);
    expect(resolveRecordType('social', { response_entity: 'Group' }, 'Member').type.name).toBe('Group');
    expect(resolveRecordType('social', { reg_record_type: '' }, 'Group').type.name).toBe('Group');
    expect(() => resolveRecordType('crvs', { reg_record_type: 'Group' })).toThrow(
      expect.objectContaining({ code: 'rjct.search_criteria.invalid' }),
    );
  });

  it('coerces values by type', () => {
    expect(coerceNumber('1', 'x')).toBe(1);
    expect(coerceNumber(' 2.5 ', 'x')).toBe(2.5);
    expect(coerceNumber('-1e2', 'x')).toBe(-100);
    expect(() => coerceNumber('1,5', 'x')).toThrow();
    expect(() => coerceNumber('0x10', 'x')).toThrow();
    expect(() => coerceNumber(true, 'x')).toThrow();
    expect(coerceBoolean('TRUE', 'x')).toBe(true);
    expect(coerceBoolean(0, 'x')).toBe(false);
    expect(() => coerceBoolean('2', 'x')).toThrow();
    expect(coerceDate('2024-02-29', 'x')).toBe('2024-02-29');
    expect(coerceDate('2024-02-29T23:00:00+03:00', 'x')).toBe('2024-02-29');
    expect(coerceDate('01.03.2024', 'x')).toBe('2024-03-01');
    expect(() => coerceDate('2023-02-29', 'x')).toThrow();
    expect(() => coerceDate('2024-13-01', 'x')).toThrow();
    expect(() => coerceDate(20240101, 'x')).toThrow();
  });

  it('yearsBefore clamps 29 February', () => {
    expect(yearsBefore('2026-01-01', 60)).toBe('1966-01-01');
    expect(yearsBefore('2024-02-29', 1)).toBe('2023-02-28');
    expect(yearsBefore('2024-02-29', 4)).toBe('2020-02-29');
  });

  it('is documented: every record type, attribute, alias and index appears in docs/search.md', () => {
    for (const domain of DOMAINS) {
      for (const type of VOCABULARY[domain].types) {
        expect(DOCS, `${domain} ${type.name}`).toContain(`\`${type.name}\``);
        for (const accepted of type.accepted) expect(DOCS.toLowerCase(), accepted).toContain(accepted);
        for (const attribute of type.attributes) {
          if (attribute.name.startsWith('identifier.')) continue;
          expect(DOCS, attribute.name).toContain(`\`${attribute.name}\``);
          for (const alias of attribute.aliases)
            expect(DOCS, `${attribute.name} alias ${alias}`).toContain(`\`${alias}\``);
          if (attribute.index) expect(DOCS, attribute.index).toContain(attribute.index);
        }
      }
    }
  });
});

describe('compiler', () => {
  it('keeps caller text out of the SQL: names through the allow-list, values as parameters', () => {
    const marker = "zz'); drop table individual; --";
    const node = parseQuery('expression', {
      $or: [
        { given_name: marker },
        { area: marker },
        { identifier: marker },
        { [`identifier.${marker.replace(/ /g, '_')}`]: marker },
      ],
    });
    const { page, count } = compiled(member, node, parseSort([{ attribute_name: 'demographic_info.birth_date' }]));
    for (const q of [page, count]) {
      expect(q.sql).not.toContain('zz');
      expect(q.sql).not.toContain('drop table');
      expect(q.parameters).toContain(marker);
    }
    expect(page.sql).toMatch(/order by i\.birth_date asc nulls last, i\.id asc limit \$\d+ offset \$\d+$/);
    expect(page.parameters.slice(-2)).toEqual([10, 10]);
  });

  it('compiles per-row record types into one exists over the row table', () => {
    const node = parseQuery('expression', { programme: 'OAP', sex: 'female' });
    const { page } = compiled(VOCABULARY.ibr.individual, node);
    expect(page.sql).toContain(
      'exists (select 1 from enrollment e join programme p on p.id = e.programme_id where e.beneficiary_id = i.id and (',
    );
    expect(compiled(VOCABULARY.dr.individual, node.kind === 'and' ? node.items[1]! : node).page.sql).toContain(
      'from disability d where d.individual_id = i.id',
    );
  });

  it('rejects bad sorts with rjct.sort.invalid', () => {
    const node = parseQuery('expression', {});
    const sortErr = expect.objectContaining({ code: 'rjct.sort.invalid' });
    expect(() => compiled(member, node, parseSort([{ attribute_name: 'nope' }]))).toThrow(sortErr);
    expect(() => compiled(member, node, parseSort([{ attribute_name: 'is_disabled' }]))).toThrow(sortErr);
    expect(() => compiled(group, node, parseSort([{ attribute_name: 'sex' }]))).toThrow(sortErr);
  });
});

describeBackends('vocabulary indexes', (ctx) => {
  it('every index named in the vocabulary exists', async () => {
    const named = new Set<string>();
    for (const domain of DOMAINS)
      for (const type of VOCABULARY[domain].types)
        for (const attribute of type.attributes) if (attribute.index) named.add(attribute.index);
    const { rows } = await sql<{ indexname: string }>`select indexname from pg_indexes`.execute(ctx.database.db);
    const existing = new Set(rows.map((r) => r.indexname));
    expect([...named].filter((name) => !existing.has(name))).toEqual([]);
  });
});
