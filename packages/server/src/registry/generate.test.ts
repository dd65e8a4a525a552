import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateRegistry, writeNdjson, type GenerateOptions, type GenerateSummary } from './generate.js';
import { normalizeRecord } from './normalize.js';
import type { IdentifierRef, ImportRecord, MemberInput, VitalEventRecord } from './records.js';

function collect(options: GenerateOptions): { records: ImportRecord[]; summary: GenerateSummary } {
  const records: ImportRecord[] = [];
  const it = generateRegistry(options);
  for (;;) {
    const step = it.next();
    if (step.done) return { records, summary: step.value };
    records.push(step.value);
  }
}

const N = 2000;
const { records, summary } = collect({ households: N, seed: 'test-seed' });
const households = records.flatMap((r) => (r.type === 'household' ? [r] : []));
const members = households.flatMap((h) => h.members ?? []);
const events = records.flatMap((r) => (r.type === 'vital_event' ? [r] : []));

const REF = Date.UTC(2026, 0, 1);
const key = (ref: IdentifierRef): string => `${ref.type}:${ref.value}`;
const uin = (m: MemberInput): string => m.identifiers.find((i) => i.type === 'UIN')?.value ?? '';
/** Completed years from one YYYY-MM-DD to another. */
function years(from: string, to: string): number {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = to.split('-').map(Number) as [number, number, number];
  return ty - fy - (tm * 100 + td < fm * 100 + fd ? 1 : 0);
}
const age = (m: MemberInput): number => years(m.birth_date as string, '2026-01-01');
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

describe('generateRegistry', () => {
  it('is deterministic: the same seed gives identical output, another seed different output', () => {
    const a = JSON.stringify(collect({ households: 300, seed: 7 }).records);
    const b = JSON.stringify(collect({ households: 300, seed: 7 }).records);
    const c = JSON.stringify(collect({ households: 300, seed: 8 }).records);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    // a prefix of a longer run is the same as a shorter run
    const longer = collect({ households: 2000, seed: 'test-seed' }).records;
    expect(JSON.stringify(longer)).toBe(JSON.stringify(records));
  });

  it('reports counts that match what it yielded, about 4 people per household', () => {
    expect(summary.households).toBe(N);
    expect(households).toHaveLength(N);
    expect(summary.areas).toBe(records.filter((r) => r.type === 'area').length);
    expect(summary.areas).toBe(1 + 6 + 24 + 72);
    expect(summary.programmes).toBe(records.filter((r) => r.type === 'programme').length);
    expect(summary.programmes).toBeGreaterThanOrEqual(5);
    expect(summary.individuals).toBe(members.length);
    expect(summary.vitalEvents).toBe(events.length);
    expect(records).toHaveLength(summary.areas + summary.programmes + summary.households + summary.vitalEvents);
    const ratio = summary.individuals / summary.households;
    expect(ratio).toBeGreaterThan(3.5);
    expect(ratio).toBeLessThan(4.5);
    for (const h of households) {
      expect(h.members?.length).toBeGreaterThanOrEqual(1);
      expect(h.members?.length).toBeLessThanOrEqual(10);
    }
  });

  it('yields areas, then programmes, then households each followed by their vital events', () => {
    const order = records.map((r) => r.type);
    const firstProgramme = order.indexOf('programme');
    const firstHousehold = order.indexOf('household');
    expect(order.slice(0, firstProgramme).every((t) => t === 'area')).toBe(true);
    expect(order.slice(firstProgramme, firstHousehold).every((t) => t === 'programme')).toBe(true);
    expect(order.slice(firstHousehold).every((t) => t === 'household' || t === 'vital_event')).toBe(true);
    expect(order[firstHousehold]).toBe('household');
  });

  it('gives every record valid fields (the import normaliser accepts all of them)', () => {
    for (const r of records) expect(() => normalizeRecord(r)).not.toThrow();
  });

  it('builds the area hierarchy with parents before children', () => {
    const seen = new Map<string, number>();
    for (const r of records) {
      if (r.type !== 'area') continue;
      if (r.level === 0) {
        expect(r.code).toBe('KL');
        expect(r.parent_code ?? null).toBeNull();
      } else {
        expect(r.parent_code).toBeTruthy();
        expect(seen.get(r.parent_code as string)).toBe((r.level ?? 0) - 1);
        expect(r.code.startsWith(`${r.parent_code}-`)).toBe(true);
        expect(r.code).toMatch(/^KL(-\d{2}){1,3}$/);
      }
      expect(seen.has(r.code)).toBe(false);
      seen.set(r.code, r.level ?? -1);
      expect(r.name.length).toBeGreaterThan(1);
    }
    const wards = [...seen].filter(([, level]) => level === 3);
    expect(wards).toHaveLength(72);
  });

  it('uses unique identifiers and registration numbers across the whole run', () => {
    const ids = new Set<string>();
    const add = (ref: IdentifierRef): void => {
      expect(ids.has(key(ref)), key(ref)).toBe(false);
      ids.add(key(ref));
    };
    for (const h of households) {
      h.identifiers.forEach(add);
      expect(h.identifiers[0]?.value).toMatch(/^HH-\d{7}$/);
      for (const m of h.members ?? []) {
        m.identifiers.forEach(add);
        for (const f of m.farms ?? []) {
          (f.identifiers ?? []).forEach(add);
          expect(f.identifiers?.[0]?.value).toMatch(/^FARM-\d{7}$/);
        }
      }
    }
    const numbers = new Set<string>();
    for (const e of events) {
      expect(numbers.has(e.registration_number)).toBe(false);
      numbers.add(e.registration_number);
      expect(e.registration_number).toMatch(/^(BRN|DRN|MRN|DVN)-\d{4}-\d{7}$/);
      expect(e.registration_number.slice(4, 8)).toBe(e.event_date.slice(0, 4));
    }
  });

  it('gives people a UIN, a BRN when born in 2000 or later, and adults an NID ~70% of the time', () => {
    let adults = 0;
    let withNid = 0;
    for (const m of members) {
      const types = m.identifiers.map((i) => i.type);
      expect(types.filter((t) => t === 'UIN')).toHaveLength(1);
      expect(uin(m)).toMatch(/^[1-9]\d{9}$/);
      expect(luhnValid(uin(m))).toBe(true);
      const year = Number(m.birth_date?.slice(0, 4));
      const brn = m.identifiers.find((i) => i.type === 'BRN');
      if (year >= 2000) expect(brn?.value.slice(0, 9)).toBe(`BRN-${year}-`);
      else expect(brn).toBeUndefined();
      const nid = m.identifiers.find((i) => i.type === 'NID');
      if (age(m) >= 18) {
        adults++;
        if (nid) withNid++;
      } else expect(nid).toBeUndefined();
    }
    expect(withNid / adults).toBeGreaterThan(0.65);
    expect(withNid / adults).toBeLessThan(0.75);
  });

  it('refers only to people, programmes and areas defined on earlier lines', () => {
    const defined = new Set<string>();
    const areas = new Set<string>();
    const programmes = new Set<string>();
    const checkArea = (code: string | null | undefined): void => {
      expect(code && areas.has(code), String(code)).toBe(true);
    };
    for (const r of records) {
      switch (r.type) {
        case 'area':
          if (r.parent_code) expect(areas.has(r.parent_code)).toBe(true);
          areas.add(r.code);
          break;
        case 'programme':
          programmes.add(r.code);
          break;
        case 'household':
          checkArea(r.area_code);
          for (const e of r.enrollments ?? []) expect(programmes.has(e.programme_code)).toBe(true);
          for (const m of r.members ?? []) {
            checkArea(m.area_code);
            for (const e of m.enrollments ?? []) expect(programmes.has(e.programme_code)).toBe(true);
            for (const f of m.farms ?? []) checkArea(f.area_code);
          }
          // members and households are defined by this line
          r.identifiers.forEach((i) => defined.add(key(i)));
          for (const m of r.members ?? []) m.identifiers.forEach((i) => defined.add(key(i)));
          break;
        case 'vital_event':
          checkArea(r.area_code);
          for (const ref of [r.subject, r.partner, r.parent1, r.parent2]) {
            if (ref) expect(defined.has(key(ref)), key(ref)).toBe(true);
          }
          break;
        default:
          throw new Error(`unexpected record type ${r.type}`);
      }
    }
  });

  it('has valid relationships, one head per household, and plausible ages', () => {
    const valid = new Set([
      'head',
      'spouse',
      'child',
      'parent',
      'sibling',
      'grandchild',
      'grandparent',
      'other_relative',
    ]);
    for (const h of households) {
      const ms = h.members ?? [];
      expect(ms.filter((m) => m.relationship === 'head')).toHaveLength(1);
      expect(ms.filter((m) => m.relationship === 'spouse').length).toBeLessThanOrEqual(1);
      const head = ms.find((m) => m.relationship === 'head') as MemberInput;
      const spouse = ms.find((m) => m.relationship === 'spouse');
      expect(age(head)).toBeGreaterThanOrEqual(18);
      expect(years(head.birth_date as string, h.registration_date as string)).toBeGreaterThanOrEqual(17);
      if (spouse) {
        expect(age(spouse)).toBeGreaterThanOrEqual(18);
        expect(spouse.sex).not.toBe(head.sex);
        expect(head.marital_status === 'M' || head.marital_status === 'W').toBe(true);
        expect(spouse.marital_status === 'M' || spouse.marital_status === 'W').toBe(true);
      } else expect(head.marital_status).not.toBe('M');
      for (const m of ms) {
        expect(valid.has(m.relationship as string)).toBe(true);
        expect(['male', 'female']).toContain(m.sex);
        expect(['S', 'M', 'W', 'D', 'L', 'U', 'A']).toContain(m.marital_status);
        expect(m.given_name).toBeTruthy();
        expect(m.surname).toBeTruthy();
        expect(m.area_code).toBe(h.area_code);
        const born = Date.parse(m.birth_date as string);
        expect(born).toBeLessThan(REF);
        expect(age(m)).toBeLessThanOrEqual(105);
        if (age(m) < 18) expect(m.marital_status).toBe('S');
        if (m.death_date) {
          expect(m.death_date >= (m.birth_date as string)).toBe(true);
          expect(Date.parse(m.death_date)).toBeLessThan(REF);
        }
        expect((m.registration_date as string) >= (m.birth_date as string)).toBe(true);
        if (m.relationship === 'child') {
          expect(m.marital_status).toBe('S');
          expect(years(head.birth_date as string, m.birth_date as string)).toBeGreaterThanOrEqual(16);
          if (spouse) expect(years(spouse.birth_date as string, m.birth_date as string)).toBeGreaterThanOrEqual(16);
        }
        if (m.relationship === 'grandchild')
          expect(years(head.birth_date as string, m.birth_date as string)).toBeGreaterThanOrEqual(32);
        if (m.relationship === 'parent')
          expect(years(m.birth_date as string, head.birth_date as string)).toBeGreaterThanOrEqual(16);
        if (m.relationship === 'grandparent')
          expect(years(m.birth_date as string, head.birth_date as string)).toBeGreaterThanOrEqual(32);
        if (age(m) < 18) expect(m.phones).toBeUndefined();
        for (const phone of m.phones ?? []) expect(phone).toMatch(/^\+254[17]\d{8}$/);
        for (const email of m.emails ?? []) expect(email).toMatch(/^[a-z.]+\d+@[a-z.]+$/);
        if (m.relationship === 'head') {
          expect(m.address?.locality).toBe(h.address?.locality);
          expect(m.address?.country_code).toBe('KL');
        } else {
          expect(m.address).toBeUndefined(); // members share the household's address
        }
      }
      expect(h.poverty_score).toBeGreaterThanOrEqual(0);
      expect(h.poverty_score).toBeLessThanOrEqual(100);
      expect(Math.round((h.poverty_score as number) * 10) / 10).toBe(h.poverty_score);
      expect(h.poverty_score_type).toBe('PMT');
      expect(['household', 'family']).toContain(h.group_type);
      expect((h.registration_date as string) >= '2015-01-01' && (h.registration_date as string) <= '2025-12-31').toBe(
        true,
      );
    }
    // every relationship type shows up
    for (const r of valid)
      expect(
        members.some((m) => m.relationship === r),
        r,
      ).toBe(true);
  });

  it('links vital events to the household members they are about', () => {
    const byUin = new Map<string, { member: MemberInput; head: MemberInput; spouse: MemberInput | undefined }>();
    for (const h of households) {
      const ms = h.members ?? [];
      const head = ms.find((m) => m.relationship === 'head') as MemberInput;
      const spouse = ms.find((m) => m.relationship === 'spouse');
      for (const m of ms) byUin.set(uin(m), { member: m, head, spouse });
    }
    const byType = (t: string): VitalEventRecord[] => events.filter((e) => e.event_type === t);
    const deaths = byType('death');
    expect(deaths).toHaveLength(members.filter((m) => m.death_date).length);
    for (const e of deaths) {
      const m = byUin.get(e.subject?.value as string)?.member;
      expect(m?.death_date).toBe(e.event_date);
      expect(e.registration_number.startsWith('DRN-')).toBe(true);
    }
    const births = byType('live_birth');
    expect(births).toHaveLength(members.filter((m) => (m.birth_date as string) >= '2018-01-01').length);
    for (const e of births) {
      const found = byUin.get(e.subject?.value as string);
      expect(found?.member.birth_date).toBe(e.event_date);
      expect(e.registration_number).toBe(found?.member.identifiers.find((i) => i.type === 'BRN')?.value);
      if (found?.member.relationship === 'child') {
        expect(e.parent1?.value).toBe(uin(found.head));
        expect(e.parent2?.value).toBe(found.spouse ? uin(found.spouse) : undefined);
      }
      expect(e.place).toBeTruthy();
    }
    for (const e of byType('marriage')) {
      const found = byUin.get(e.subject?.value as string);
      expect(found?.member.relationship).toBe('head');
      expect(e.partner?.value).toBe(found?.spouse ? uin(found.spouse) : 'no spouse');
      expect(years(found?.member.birth_date as string, e.event_date)).toBeGreaterThanOrEqual(18);
      expect(years(found?.spouse?.birth_date as string, e.event_date)).toBeGreaterThanOrEqual(18);
    }
    const pairs = members.filter((m) => m.relationship === 'spouse').length;
    expect(byType('marriage').length / pairs).toBeGreaterThan(0.4);
    expect(byType('marriage').length / pairs).toBeLessThan(0.6);
    const divorces = byType('divorce');
    expect(divorces.length).toBeGreaterThan(0);
    for (const e of divorces) expect(byUin.get(e.subject?.value as string)?.member.marital_status).toBe('D');
    for (const e of events) expect(Date.parse(e.event_date)).toBeLessThan(REF);
  });

  it('spreads programmes, disabilities, deaths, farms and consents at the intended rates', () => {
    const rate = (n: number, d: number): number => n / d;
    expect(rate(households.filter((h) => h.enrollments?.length).length, N)).toBeGreaterThan(0.22);
    expect(rate(households.filter((h) => h.enrollments?.length).length, N)).toBeLessThan(0.38);
    expect(rate(members.filter((m) => m.disabilities?.length).length, members.length)).toBeGreaterThan(0.035);
    expect(rate(members.filter((m) => m.disabilities?.length).length, members.length)).toBeLessThan(0.065);
    expect(rate(members.filter((m) => m.death_date).length, members.length)).toBeGreaterThan(0.005);
    expect(rate(members.filter((m) => m.death_date).length, members.length)).toBeLessThan(0.015);
    const heads = members.filter((m) => m.relationship === 'head');
    expect(rate(heads.filter((m) => m.farms?.length).length, N)).toBeGreaterThan(0.18);
    expect(rate(heads.filter((m) => m.farms?.length).length, N)).toBeLessThan(0.32);
    expect(members.every((m) => m.relationship === 'head' || !m.farms)).toBe(true);
    const elders = members.filter((m) => age(m) >= 65);
    expect(
      rate(elders.filter((m) => m.enrollments?.some((e) => e.programme_code === 'OAP')).length, elders.length),
    ).toBeGreaterThan(0.6);
    const adults = members.filter((m) => age(m) >= 18);
    expect(rate(adults.filter((m) => m.consents?.length).length, adults.length)).toBeGreaterThan(0.06);
    expect(rate(adults.filter((m) => m.consents?.length).length, adults.length)).toBeLessThan(0.14);

    for (const m of members) {
      for (const e of m.enrollments ?? []) {
        expect((e.enrollment_date as string) >= (m.birth_date as string)).toBe(true);
        if (e.programme_code === 'OAP')
          expect(years(m.birth_date as string, e.enrollment_date as string)).toBeGreaterThanOrEqual(65);
        if (m.death_date) {
          expect(e.status).toBe('deceased');
          for (const b of e.benefits ?? []) expect(b.benefit_date <= m.death_date).toBe(true);
        }
      }
      for (const d of m.disabilities ?? []) {
        expect(d.functional_severity).toBeGreaterThanOrEqual(1);
        expect(d.functional_severity).toBeLessThanOrEqual(4);
        expect((d.assessed_on as string) >= (m.birth_date as string)).toBe(true);
      }
      for (const f of m.farms ?? []) {
        expect(f.land_size).toBeGreaterThanOrEqual(0.2);
        expect(f.land_size).toBeLessThanOrEqual(20);
        expect(f.crop_types?.length).toBeGreaterThanOrEqual(1);
        expect(f.crop_types?.length).toBeLessThanOrEqual(3);
        expect(new Set(f.crop_types).size).toBe(f.crop_types?.length);
      }
      for (const c of m.consents ?? []) {
        expect(c.sender_id).toBe('demo-client');
        expect(c.purpose).toBe('any');
        expect(c.given_at >= '2024-01-01' && c.given_at < '2026-01-01').toBe(true);
        if (c.revoked_at) expect(c.revoked_at > c.given_at).toBe(true);
        if (c.expires_at) expect(c.expires_at > c.given_at).toBe(true);
      }
    }
    for (const h of households) {
      for (const e of h.enrollments ?? []) {
        expect((e.enrollment_date as string) >= (h.registration_date as string)).toBe(true);
        expect(e.benefits?.length ?? 0).toBeLessThanOrEqual(3);
        for (const b of e.benefits ?? []) {
          expect(b.benefit_date > (e.enrollment_date as string)).toBe(true);
          expect(Date.parse(b.benefit_date)).toBeLessThan(REF);
          expect(b.currency).toBe('KLS');
          expect(b.amount).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe('writeNdjson', () => {
  it('writes one JSON record per line, identical to the generator output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opendci-generate-'));
    try {
      const path = join(dir, 'registry.ndjson');
      const written = await writeNdjson(path, { households: N, seed: 'test-seed' });
      expect(written).toEqual(summary);
      const text = readFileSync(path, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      expect(lines).toHaveLength(records.length);
      lines.forEach((line, i) => {
        expect(line).toBe(JSON.stringify(records[i]));
      });
      expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(records);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects when the file cannot be written', async () => {
    await expect(
      writeNdjson('/nonexistent-dir/opendci/registry.ndjson', { households: 10, seed: 1 }),
    ).rejects.toThrow();
  });
});
