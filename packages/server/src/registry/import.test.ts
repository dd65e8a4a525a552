import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeBackends } from '../test-support/backends.js';
import { importFile } from './import.js';

const dir = mkdtempSync(join(tmpdir(), 'opendci-import-'));
function file(name: string, lines: (object | string)[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
}

const base = [
  { type: 'area', code: 'KL', name: 'Kalima', level: 0 },
  { type: 'area', code: 'KL-01', name: 'North', level: 1, parent_code: 'KL' },
  { type: 'programme', code: 'CT', name: 'Cash transfer', benefit_type: 'cash' },
  {
    type: 'household',
    identifiers: [{ type: 'HHID', value: 'HH-1' }],
    area_code: 'KL-01',
    poverty_score: 31.5,
    registration_date: '2021-03-04',
    members: [
      {
        relationship: 'head',
        identifiers: [
          { type: 'UIN', value: '1001' },
          { type: 'NID', value: 'N-1' },
        ],
        given_name: 'Amina',
        surname: 'Otieno',
        sex: 'F',
        birth_date: '1984-05-01',
        marital_status: 'married',
        phones: ['+254700000001'],
        disabilities: [{ disability_type: 'visual', functional_severity: 3 }],
        farms: [
          {
            identifiers: [{ type: 'FARM', value: 'F-1' }],
            land_size: 2.5,
            crop_types: ['maize', 'beans'],
            livestock: [{ type: 'goat', count: 4 }],
          },
        ],
        consents: [{ sender_id: 'demo-client', given_at: '2024-01-01T00:00:00Z' }],
      },
      {
        relationship: 'spouse',
        identifiers: [{ type: 'UIN', value: '1002' }],
        given_name: 'Peter',
        surname: 'Otieno',
        sex: 'male',
        birth_date: '1980-01-02',
      },
      {
        relationship: 'child',
        identifiers: [
          { type: 'UIN', value: '1003' },
          { type: 'BRN', value: 'BRN-2019-1' },
        ],
        given_name: 'Zoë',
        surname: 'Otieno',
        sex: 'female',
        birth_date: '2019-07-07',
      },
    ],
    enrollments: [
      {
        programme_code: 'CT',
        status: 'active',
        enrollment_date: '2022-01-10',
        benefits: [{ benefit_type: 'cash', benefit_date: '2022-02-01', amount: 50, currency: 'KLS' }],
      },
    ],
  },
  {
    type: 'vital_event',
    event_type: 'live_birth',
    registration_number: 'BRN-2019-1',
    event_date: '2019-07-07',
    subject: { type: 'UIN', value: '1003' },
    parent1: { type: 'UIN', value: '1001' },
    parent2: { type: 'UIN', value: '1002' },
  },
  {
    type: 'individual',
    identifiers: [{ type: 'UIN', value: '2001' }],
    given_name: 'Old',
    surname: 'Man',
    sex: 'male',
    birth_date: '1940-01-01',
    enrollments: [{ programme_code: 'CT' }],
  },
  {
    type: 'vital_event',
    event_type: 'death',
    registration_number: 'DRN-2024-1',
    event_date: '2024-02-01',
    subject: { type: 'UIN', value: '2001' },
  },
];

describeBackends('registry import', (ctx) => {
  let first: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    first = await importFile(ctx.database, file('base.ndjson', base));
  });

  const count = async (table: string) =>
    Number(
      (await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)}`.execute(ctx.database.db)).rows[0]!
        .n,
    );

  it('loads every record of a good file', async () => {
    expect(first).toMatchObject({ rows: 7, inserted: 7, updated: 0, unchanged: 0, failed: 0, errors: [] });
    expect(await count('individual')).toBe(4);
    expect(await count('household')).toBe(1);
    expect(await count('membership')).toBe(3);
    expect(await count('identifier')).toBe(8); // 5 UIN/NID/BRN of members + UIN 2001 + HHID + FARM
    expect(await count('enrollment')).toBe(2);
    expect(await count('benefit')).toBe(1);
    expect(await count('vital_event')).toBe(2);
    const { db } = ctx.database;
    const household = await db.selectFrom('household').selectAll().executeTakeFirstOrThrow();
    expect(household.size).toBe(3);
    expect(Number(household.poverty_score)).toBe(31.5);
    const head = await db
      .selectFrom('identifier')
      .select('entity_id')
      .where('id_value', '=', '1001')
      .executeTakeFirstOrThrow();
    expect(household.head_id).toBe(head.entity_id);
    const amina = await db
      .selectFrom('individual')
      .selectAll()
      .where('id', '=', head.entity_id)
      .executeTakeFirstOrThrow();
    expect(amina).toMatchObject({
      sex: 'female',
      marital_status: 'M',
      is_disabled: true,
      birth_date: '1984-05-01',
      phones: ['+254700000001'],
    });
    const farm = await db.selectFrom('farm').selectAll().executeTakeFirstOrThrow();
    expect(farm).toMatchObject({
      farmer_id: head.entity_id,
      crop_types: ['maize', 'beans'],
      livestock: [{ type: 'goat', count: 4 }],
    });
    const old = await db
      .selectFrom('individual')
      .select('death_date')
      .where('given_name', '=', 'Old')
      .executeTakeFirstOrThrow();
    expect(old.death_date).toBe('2024-02-01');
    const area = await db.selectFrom('area').select('path').where('code', '=', 'KL-01').executeTakeFirstOrThrow();
    expect(area.path).toBe('KL/KL-01/');
  });

  it('writes one registry event per change, in the same transaction', async () => {
    const events = await ctx.database.db
      .selectFrom('registry_event')
      .select(['event_type', 'record_type'])
      .orderBy('id')
      .execute();
    const types = events.map((e) => `${e.record_type}:${e.event_type}`);
    expect(types.filter((t) => t === 'individual:REGISTER')).toHaveLength(4);
    expect(types).toContain('household:REGISTER');
    expect(types).toContain('vital_event:LiveBirth');
    expect(types).toContain('vital_event:Death');
    expect(types.filter((t) => t === 'enrollment:enrollement')).toHaveLength(2);
    expect(types).toContain('disability:REGISTER');
    expect(types).toContain('farm:REGISTER');
    // the death also set Old Man's death_date: an UPDATE of an existing individual (he came earlier in the batch, so no)
    expect(types).not.toContain('household:NewHouseHoldMember');
  });

  it('importing the same file again changes nothing', async () => {
    const eventsBefore = await count('registry_event');
    const again = await importFile(ctx.database, file('base-again.ndjson', base));
    expect(again).toMatchObject({ rows: 7, inserted: 0, updated: 0, unchanged: 7, failed: 0 });
    expect(await count('registry_event')).toBe(eventsBefore);
    expect(await count('individual')).toBe(4);
    const versions = await ctx.database.db.selectFrom('individual').select('version').execute();
    expect(versions.every((v) => v.version === 1)).toBe(true);
  });

  it('updates a changed record in place, bumps its version and writes UPDATE / NewHouseHoldMember / status change', async () => {
    const { db } = ctx.database;
    const result = await importFile(
      ctx.database,
      file('update.ndjson', [
        {
          type: 'individual',
          identifiers: [
            { type: 'NID', value: 'N-1' },
            { type: 'UIN', value: '1001' },
            { type: 'PASSPORT', value: 'P-9' },
          ],
          surname: 'Otieno-Ware',
        },
        {
          type: 'household',
          identifiers: [{ type: 'HHID', value: 'HH-1' }],
          members: [{ relationship: 'grandparent', identifiers: [{ type: 'UIN', value: '1004' }], given_name: 'Gran' }],
        },
        { type: 'enrollment', beneficiary: { type: 'HHID', value: 'HH-1' }, programme_code: 'CT', status: 'suspended' },
      ]),
    );
    expect(result).toMatchObject({ inserted: 0, updated: 3, failed: 0 });
    const amina = await db
      .selectFrom('individual')
      .selectAll()
      .where('given_name', '=', 'Amina')
      .executeTakeFirstOrThrow();
    expect(amina).toMatchObject({ surname: 'Otieno-Ware', version: 2, birth_date: '1984-05-01' });
    const passport = await db
      .selectFrom('identifier')
      .select('entity_id')
      .where('id_type', '=', 'PASSPORT')
      .executeTakeFirstOrThrow();
    expect(passport.entity_id).toBe(amina.id);
    const household = await db.selectFrom('household').select(['size', 'version']).executeTakeFirstOrThrow();
    expect(household.size).toBe(4);
    const last = await db
      .selectFrom('registry_event')
      .select(['event_type', 'record_type'])
      .orderBy('id', 'desc')
      .limit(4)
      .execute();
    const types = last.map((e) => e.event_type);
    expect(types).toContain('NewHouseHoldMember');
    expect(types).toContain('enrollement_status_change');
  });

  it('loads the good rows of a bad file and reports each bad row with its line and reason', async () => {
    const { db } = ctx.database;
    const individualsBefore = await count('individual');
    const result = await importFile(
      ctx.database,
      file('bad.ndjson', [
        {
          type: 'individual',
          identifiers: [{ type: 'UIN', value: '3001' }],
          given_name: 'Good',
          birth_date: '1990-01-01',
        },
        '{"type": "individual", broken',
        { type: 'individual', identifiers: [{ type: 'UIN', value: '3002' }], birth_date: '1990-02-30' },
        { type: 'individual', identifiers: [{ type: 'UIN', value: '3003' }], area_code: 'NOWHERE' },
        {
          type: 'individual',
          identifiers: [
            { type: 'UIN', value: '1001' },
            { type: 'UIN', value: '1002' },
          ],
        },
        {
          type: 'household',
          identifiers: [{ type: 'HHID', value: 'HH-BAD' }],
          members: [
            { relationship: 'head', identifiers: [{ type: 'UIN', value: '3004' }], given_name: 'Half' },
            { identifiers: [{ type: 'HHID', value: 'HH-1' }], given_name: 'Wrong kind' },
          ],
        },
        {
          type: 'vital_event',
          event_type: 'death',
          registration_number: 'DRN-X',
          event_date: '2024-01-01',
          subject: { type: 'UIN', value: 'nobody' },
        },
        { type: 'spaceship', name: 'x' },
        { identifiers: [{ type: 'UIN', value: '3005' }] },
        { type: 'individual', identifiers: [{ type: 'UIN', value: '3006' }], given_name: 'Also good' },
      ]),
    );
    expect(result.rows).toBe(10);
    expect(result.inserted).toBe(2);
    expect(result.failed).toBe(8);
    expect(result.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const reasons = result.errors.map((e) => e.reason).join('\n');
    expect(reasons).toMatch(/invalid JSON/);
    expect(reasons).toMatch(/birth_date: "1990-02-30" is not a valid date/);
    expect(reasons).toMatch(/unknown area_code "NOWHERE"/);
    expect(reasons).toMatch(/identifiers belong to different records/);
    expect(reasons).toMatch(/belongs to a household, not a individual/);
    expect(reasons).toMatch(/subject: no record has identifier UIN nobody/);
    expect(reasons).toMatch(/unknown type "spaceship"/);
    expect(reasons).toMatch(/type is missing/);
    expect(await count('individual')).toBe(individualsBefore + 2);
    // the failed household left nothing: neither itself nor its valid first member
    const half = await db
      .selectFrom('identifier')
      .select('entity_id')
      .where('id_value', 'in', ['3004', 'HH-BAD'])
      .execute();
    expect(half).toEqual([]);
  });

  it('isolates a row that the database rejects and loads the rest of its batch', async () => {
    const { db } = ctx.database;
    await sql`create function reject_boom() returns trigger language plpgsql as $$
      begin if new.surname = 'BOOM' then raise exception 'boom row'; end if; return new; end $$`.execute(db);
    await sql`create trigger reject_boom before insert on individual for each row execute function reject_boom()`.execute(
      db,
    );
    try {
      const result = await importFile(
        ctx.database,
        file('boom.ndjson', [
          { type: 'individual', identifiers: [{ type: 'UIN', value: '4001' }], surname: 'Fine' },
          { type: 'individual', identifiers: [{ type: 'UIN', value: '4002' }], surname: 'BOOM' },
          { type: 'individual', identifiers: [{ type: 'UIN', value: '4003' }], surname: 'Fine too' },
        ]),
      );
      expect(result).toMatchObject({ inserted: 2, failed: 1 });
      expect(result.errors[0]).toMatchObject({ line: 2 });
      expect(result.errors[0]!.reason).toMatch(/boom row/);
      const ids = await db
        .selectFrom('identifier')
        .select('id_value')
        .where('id_value', 'in', ['4001', '4002', '4003'])
        .orderBy('id_value')
        .execute();
      expect(ids.map((i) => i.id_value)).toEqual(['4001', '4003']);
    } finally {
      await sql`drop trigger reject_boom on individual`.execute(db);
    }
  });

  it('imports CSV with identifier columns, lists, dotted objects and household references', async () => {
    const { db } = ctx.database;
    const path = join(dir, 'people.csv');
    writeFileSync(
      path,
      [
        'id.UIN,id.NID,given_name,surname,sex,birth_date,phones,address.locality,address.geo_location.latitude,address.geo_location.longitude,area_code,household,relationship',
        '5001,N-5001,Wanjiru,Kamau,female,1975-03-03,+254711000001|+254711000002,"Westlands, Nairobi",-1.26,36.8,KL-01,HHID:HH-1,other_relative',
        '5002,,"Multi',
        'line",Name,male,1999-09-09,,,,,,,',
        '5003,,Short,Row',
        '5004,,Bad,Sex,dragon,2000-01-01,,,,,,,',
      ].join('\n') + '\n',
    );
    const result = await importFile(ctx.database, path, { type: 'individual' });
    expect(result).toMatchObject({ rows: 4, inserted: 2, failed: 2 });
    expect(result.errors.map((e) => e.line)).toEqual([5, 6]);
    expect(result.errors[0]!.reason).toMatch(/expected 13 columns, found 4/);
    expect(result.errors[1]!.reason).toMatch(/sex: "dragon"/);
    const person = await db
      .selectFrom('individual')
      .selectAll()
      .where('surname', '=', 'Kamau')
      .executeTakeFirstOrThrow();
    expect(person.phones).toEqual(['+254711000001', '+254711000002']);
    expect(person.address).toEqual({
      locality: 'Westlands, Nairobi',
      geo_location: { latitude: -1.26, longitude: 36.8 },
    });
    const multi = await db
      .selectFrom('individual')
      .select('given_name')
      .where('surname', '=', 'Name')
      .executeTakeFirstOrThrow();
    expect(multi.given_name).toBe('Multi\nline');
    const membership = await db
      .selectFrom('membership')
      .select('relationship')
      .where('individual_id', '=', person.id)
      .executeTakeFirstOrThrow();
    expect(membership.relationship).toBe('other_relative');
  });

  it('carries state across pipelined batches, and replans after a batch the database rejects', async () => {
    const { db } = ctx.database;
    await sql`create function reject_boom2() returns trigger language plpgsql as $$
      begin if new.surname = 'BOOM' then raise exception 'boom row'; end if; return new; end $$`.execute(db);
    await sql`create trigger reject_boom2 before insert on individual for each row execute function reject_boom2()`.execute(
      db,
    );
    try {
      const uin = (value: string) => ({ type: 'UIN', value });
      // batchWeight 1: every row is its own batch, planned while the previous one is written
      const result = await importFile(
        ctx.database,
        file('pipeline.ndjson', [
          { type: 'individual', identifiers: [uin('6001')], given_name: 'Pipe', surname: 'Line' },
          { type: 'individual', identifiers: [uin('6001'), uin('6001-B')], surname: 'Line-Two' },
          {
            type: 'vital_event',
            event_type: 'death',
            registration_number: 'DRN-6001',
            event_date: '2025-01-01',
            subject: uin('6001'),
          },
          {
            type: 'household',
            identifiers: [{ type: 'HHID', value: 'HH-6' }],
            members: [{ relationship: 'head', identifiers: [uin('6001-B')] }],
          },
          {
            type: 'household',
            identifiers: [{ type: 'HHID', value: 'HH-6' }],
            members: [{ relationship: 'child', identifiers: [uin('6002')], given_name: 'Kid' }],
          },
          { type: 'individual', identifiers: [uin('6003')], surname: 'BOOM' },
          {
            type: 'vital_event',
            event_type: 'death',
            registration_number: 'DRN-6003',
            event_date: '2025-01-01',
            subject: uin('6003'),
          },
          { type: 'individual', identifiers: [uin('6004')], surname: 'After' },
          { type: 'enrollment', beneficiary: uin('6004'), programme_code: 'CT' },
        ]),
        { batchWeight: 1 },
      );
      expect(result.errors.map((e) => e.line)).toEqual([6, 7]);
      expect(result.errors[0]!.reason).toMatch(/boom row/);
      expect(result.errors[1]!.reason).toMatch(/no record has identifier UIN 6003/);
      expect(result).toMatchObject({ inserted: 5, updated: 2, failed: 2 });
      const pipe = await db
        .selectFrom('individual')
        .select(['id', 'surname', 'version', 'death_date'])
        .where('given_name', '=', 'Pipe')
        .executeTakeFirstOrThrow();
      expect(pipe).toMatchObject({ surname: 'Line-Two', death_date: '2025-01-01' });
      const ids = await db
        .selectFrom('identifier')
        .select(['id_value', 'entity_id'])
        .where('id_value', 'in', ['6001', '6001-B'])
        .execute();
      expect(ids.map((i) => i.entity_id)).toEqual([pipe.id, pipe.id]);
      const household = await db
        .selectFrom('household')
        .innerJoin('identifier', 'identifier.entity_id', 'household.id')
        .select(['household.id', 'size', 'head_id'])
        .where('id_value', '=', 'HH-6')
        .executeTakeFirstOrThrow();
      expect(household).toMatchObject({ size: 2, head_id: pipe.id });
      const newMember = await db
        .selectFrom('registry_event')
        .select('event_type')
        .where('record_id', '=', household.id)
        .where('event_type', '=', 'NewHouseHoldMember')
        .execute();
      expect(newMember).toHaveLength(1);
      expect(
        await db
          .selectFrom('enrollment')
          .innerJoin('identifier', 'identifier.entity_id', 'enrollment.beneficiary_id')
          .select('status')
          .where('id_value', '=', '6004')
          .executeTakeFirst(),
      ).toEqual({ status: 'active' });
    } finally {
      await sql`drop trigger reject_boom2 on individual`.execute(db);
    }
  });

  it('treats a row repeated within one batch as the same record', async () => {
    const { db } = ctx.database;
    const household = {
      type: 'household',
      identifiers: [{ type: 'HHID', value: 'HH-DUP' }],
      members: [{ relationship: 'head', identifiers: [{ type: 'UIN', value: '7001' }], given_name: 'Dup' }],
    };
    const result = await importFile(
      ctx.database,
      file('dup.ndjson', [household, household, { ...household, poverty_score: 12 }]),
    );
    expect(result).toMatchObject({ inserted: 1, unchanged: 1, updated: 1, failed: 0 });
    const ids = await db
      .selectFrom('identifier')
      .select('entity_id')
      .where('id_value', 'in', ['HH-DUP', '7001'])
      .execute();
    expect(ids).toHaveLength(2);
    const stored = await db
      .selectFrom('household')
      .innerJoin('identifier', 'identifier.entity_id', 'household.id')
      .select(['poverty_score', 'size', 'version'])
      .where('id_value', '=', 'HH-DUP')
      .executeTakeFirstOrThrow();
    // one household, one member; the change in the same batch is part of its first version
    expect({ ...stored, poverty_score: Number(stored.poverty_score) }).toEqual({
      poverty_score: 12,
      size: 1,
      version: 1,
    });
  });
});
