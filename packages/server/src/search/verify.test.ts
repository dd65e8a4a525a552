/**
 * Claim checks (contract §9) on the fixture registry of search.test.ts, on both backends. People
 * are P1…P8 by their UIN (10000n); the clock is fixed at 2026-01-01, so P1 is 65, P3 15, and P8
 * has no birth date and died on 2024-02-01. Consents of sender-a: P1 valid, P2 revoked in 2025,
 * P4 expired in 2025, P5 valid until 2030, P6 given only in 2027, P7 valid; sender-b: P5.
 */
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Domain } from '../config.js';
import { importFile } from '../registry/import.js';
import { describeBackends } from '../test-support/backends.js';
import { checkClaims, type CheckClaimsOptions, type ClaimCheck } from './verify.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/registry.ndjson', import.meta.url));
const NOW = new Date('2026-01-01T12:00:00Z');
const uin = (n: number) => String(100000 + n);

describeBackends('verify: claim checks (fixture registry)', (ctx) => {
  beforeAll(async () => {
    const report = await importFile(ctx.database, FIXTURE);
    expect(report.failed, JSON.stringify(report.errors)).toBe(0);
  });

  const check = (
    idValue: string,
    claims: Record<string, unknown>,
    more: Partial<CheckClaimsOptions> & { domain?: Domain } = {},
  ): Promise<ClaimCheck> =>
    checkClaims(ctx.database.db, { domain: 'social', idType: 'UIN', idValue, claims, now: NOW, ...more });
  const person = (n: number, claims: Record<string, unknown>, more: Partial<CheckClaimsOptions> = {}) =>
    check(uin(n), claims, more);
  const invalid = { name: 'QueryError', code: 'rjct.search_criteria.invalid' };

  describe('outcomes', () => {
    it('answers yes and no per claim, never the value', async () => {
      const answer = await person(1, {
        sex: 'female',
        'demographic_info.birth_date': '1960-05-01',
        marital_status: 'married',
        given_name: 'AMINA',
        surname: 'Mwangi',
        area: 'KL',
        is_disabled: true,
        NID: 'N-2',
      });
      expect(answer).toEqual({
        found: true,
        claims: {
          sex: 'yes',
          'demographic_info.birth_date': 'yes',
          marital_status: 'yes',
          given_name: 'yes',
          surname: 'no',
          area: 'yes',
          is_disabled: 'yes',
          NID: 'unknown', // P1 holds no NID
        },
      });
      expect(await person(2, { NID: 'N-2', gender: 'f', birth_date: '1958-11-29' })).toEqual({
        found: true,
        claims: { NID: 'yes', gender: 'no', birth_date: 'no' },
      });
      // The keys are the caller's, in the caller's order.
      expect(Object.keys((await person(1, { surname: 'x', sex: 'male', age: 1 })).claims)).toEqual([
        'surname',
        'sex',
        'age',
      ]);
    });

    it('answers unknown for a value that is not recorded', async () => {
      expect(await person(8, { birth_date: '1950-01-01', marital_status: 'S', sex: 'unknown', age: 70 })).toEqual({
        found: true,
        claims: { birth_date: 'unknown', marital_status: 'unknown', sex: 'yes', age: 'unknown' },
      });
      // Negations of an unrecorded value stay unknown (not "yes, it is not S").
      expect((await person(8, { marital_status: { $ne: 'S' } })).claims).toEqual({ marital_status: 'unknown' });
    });

    it('answers unknown for every claim when nobody holds the identifier', async () => {
      expect(await check('999999', { sex: 'female', is_alive: true, age: 3 })).toEqual({
        found: false,
        claims: { sex: 'unknown', is_alive: 'unknown', age: 'unknown' },
      });
      expect(
        (
          await checkClaims(ctx.database.db, {
            domain: 'social',
            idType: 'NID',
            idValue: uin(1),
            claims: { sex: 'female' },
          })
        ).found,
      ).toBe(false);
    });

    it('is_alive: no date of death recorded', async () => {
      expect((await person(1, { is_alive: true })).claims).toEqual({ is_alive: 'yes' });
      expect((await person(1, { is_alive: 'no' })).claims).toEqual({ is_alive: 'no' });
      expect((await person(8, { is_alive: true })).claims).toEqual({ is_alive: 'no' });
      expect((await person(8, { is_alive: false, death_date: '2024-02-01' })).claims).toEqual({
        is_alive: 'yes',
        death_date: 'yes',
      });
      expect((await person(1, { death_date: '2024-02-01' })).claims).toEqual({ death_date: 'unknown' });
    });

    it('takes one comparison operator per claim', async () => {
      expect((await person(1, { age: { $gte: 60 }, birth_date: { lt: '1961-01-01' } })).claims).toEqual({
        age: 'yes',
        birth_date: 'yes',
      });
      expect((await person(3, { age: { $gte: 18 } })).claims).toEqual({ age: 'no' });
      expect((await person(1, { marital_status: { $in: ['W', 'married'] } })).claims).toEqual({
        marital_status: 'yes',
      });
      expect((await person(1, { sex: { $nin: ['female'] } })).claims).toEqual({ sex: 'no' });
      expect((await person(1, { age: 65 })).claims).toEqual({ age: 'yes' });
    });
  });

  describe('record types and domains', () => {
    it('checks a household named by its identifier against the group vocabulary', async () => {
      const group = (claims: Record<string, unknown>, more: Partial<CheckClaimsOptions> = {}) =>
        check('HH-2', claims, { idType: 'HHID', ...more });
      expect(await group({ group_size: 2, poverty_score: 40, group_type: 'household' })).toEqual({
        found: true,
        claims: { group_size: 'yes', poverty_score: 'yes', group_type: 'no' },
      });
      expect((await check('HH-4', { poverty_score: 1 }, { idType: 'HHID' })).claims).toEqual({
        poverty_score: 'unknown',
      });
      // A claim must fit the record found: no person attribute on a household, nor the reverse.
      await expect(group({ is_alive: true })).rejects.toMatchObject(invalid);
      await expect(person(1, { group_size: 2 })).rejects.toMatchObject(invalid);
      // …while nobody found still answers unknown, whatever record type the claim fits.
      expect(await check('999999', { group_size: 2 })).toEqual({ found: false, claims: { group_size: 'unknown' } });
      await expect(check('999999', { shoe_size: 42 })).rejects.toMatchObject(invalid);
    });

    it('evaluates per-row attributes in IBR, DR and FR, and CRVS attributes', async () => {
      expect((await person(1, { programme: 'oap', enrollment_status: 'active' }, { domain: 'ibr' })).claims).toEqual({
        programme: 'yes',
        enrollment_status: 'yes',
      });
      expect((await person(1, { programme: 'CT-OVC' }, { domain: 'ibr' })).claims).toEqual({ programme: 'no' });
      // Not a beneficiary: not found in IBR.
      expect((await person(3, { sex: 'female' }, { domain: 'ibr' })).found).toBe(false);
      expect(
        (await person(5, { disability_type: 'physical', functional_severity: 1 }, { domain: 'dr' })).claims,
      ).toEqual({ disability_type: 'yes', functional_severity: 'yes' });
      expect(
        (
          await check(
            'F-2',
            { crop_type: 'rice', livestock: 'cattle', given_name: 'Mary' },
            { domain: 'fr', idType: 'FARM' },
          )
        ).claims,
      ).toEqual({ crop_type: 'yes', livestock: 'unknown', given_name: 'yes' }); // F-2 keeps no livestock
      expect((await person(4, { livestock: 'goat', crop_type: 'maize' }, { domain: 'fr' })).claims).toEqual({
        livestock: 'no',
        crop_type: 'yes',
      });
      expect((await person(3, { place_of_birth: 'kenyatta hospital' }, { domain: 'crvs' })).claims).toEqual({
        place_of_birth: 'yes',
      });
      expect((await person(8, { is_alive: false, event_type: 'death' }, { domain: 'crvs' })).claims).toEqual({
        is_alive: 'yes',
        event_type: 'yes',
      });
      await expect(person(1, { programme: 'OAP' })).rejects.toMatchObject(invalid); // IBR only
    });
  });

  describe('consent', () => {
    it('a consent-based sender gets unknown for people without a valid consent for it', async () => {
      const a = { consentSenderId: 'sender-a' };
      expect(await person(1, { sex: 'female' }, a)).toEqual({ found: true, claims: { sex: 'yes' } });
      for (const n of [2, 3, 4, 6]) {
        // P2 revoked, P3 none, P4 expired, P6 not yet given: the same answer as nobody at all.
        expect(await person(n, { sex: 'male', is_alive: true }, a)).toEqual({
          found: false,
          claims: { sex: 'unknown', is_alive: 'unknown' },
        });
      }
      expect((await person(1, { sex: 'female' }, { consentSenderId: 'sender-b' })).found).toBe(false);
      expect((await person(5, { sex: 'female' }, { consentSenderId: 'sender-b' })).claims).toEqual({ sex: 'yes' });
      // In mid-2024 P2 had not revoked yet.
      expect(await person(2, { sex: 'male' }, { ...a, now: new Date('2024-06-01T00:00:00Z') })).toEqual({
        found: true,
        claims: { sex: 'yes' },
      });
      // Households follow their head's consent: HH-1 (head P1) yes, HH-2 (head P4, expired) no.
      expect((await check('HH-1', { group_size: 3 }, { ...a, idType: 'HHID' })).claims).toEqual({ group_size: 'yes' });
      expect((await check('HH-2', { group_size: 2 }, { ...a, idType: 'HHID' })).found).toBe(false);
    });
  });

  describe('rejections and injection attempts', () => {
    it('rejects unknown attributes and values that cannot be read', async () => {
      const bad: Record<string, unknown>[] = [
        { shoe_size: 42 },
        { sex: 'female', password: 'x' },
        { sex: 'robot' },
        { birth_date: 'yesterday' },
        { birth_date: '2023-02-30' },
        { age: 'old' },
        { is_alive: 'maybe' },
        { sex: null },
        { sex: ['female'] },
        { sex: { $eq: 'female', $ne: 'male' } },
        { sex: { $regex: '.*' } },
        { sex: { $exists: true } },
        { sex: { $gt: 'male' } },
        { age: { $in: 60 } },
        { age: { $gte: { $gt: 1 } } },
        {},
        Object.fromEntries(Array.from({ length: 101 }, (_, n) => [`identifier.T${n}`, 'x'])),
      ];
      for (const claims of bad) await expect(person(1, claims), JSON.stringify(claims)).rejects.toMatchObject(invalid);
      await expect(check('', { sex: 'female' })).rejects.toMatchObject(invalid);
      await expect(check('1', { sex: 'female' }, { idType: '' })).rejects.toMatchObject(invalid);
    });

    it('injection in attribute names, values, identifiers and the consent sender', async () => {
      const names = [
        "sex = 'male' or 1=1 --",
        'sex; drop table individual; --',
        'i.sex',
        'sex)--',
        'demographic_info.sex; delete from consent',
        'identifier.UIN\u0000',
        '__proto__',
        'constructor',
      ];
      for (const name of names) {
        await expect(person(1, { [name]: 'female' }), name).rejects.toMatchObject(invalid);
      }
      expect((await person(1, { given_name: "x' or '1'='1" })).claims).toEqual({ given_name: 'no' });
      expect(
        (await person(8, { given_name: "Robert'); DROP TABLE individual; --", surname: "O'Brien" })).claims,
      ).toEqual({
        given_name: 'yes',
        surname: 'yes',
      });
      expect((await person(1, { area: "KL' or '1'='1" })).claims).toEqual({ area: 'no' });
      expect((await person(1, { area: '%' })).claims).toEqual({ area: 'no' });
      expect((await person(1, { "identifier.UIN'--": uin(1) })).claims).toEqual({ "identifier.UIN'--": 'unknown' });
      await expect(person(1, { sex: "female' or '1'='1" })).rejects.toMatchObject(invalid);
      expect((await check(`${uin(1)}' or '1'='1`, { sex: 'female' })).found).toBe(false);
      expect((await check(uin(1), { sex: 'female' }, { idType: "UIN' or '1'='1" })).found).toBe(false);
      expect((await person(1, { sex: 'female' }, { consentSenderId: "sender-a' or '1'='1" })).found).toBe(false);
      const { rows } = await sql<{
        people: string;
        groups: string;
        consents: string;
      }>`select (select count(*) from individual) as people, (select count(*) from household) as groups, (select count(*) from consent) as consents`.execute(
        ctx.database.db,
      );
      expect(rows[0]).toEqual({ people: '8', groups: '4', consents: '7' });
    });
  });
});
