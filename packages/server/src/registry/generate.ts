/**
 * Deterministic synthetic registry data for the fictional country Kalima (KL): areas, programmes,
 * households with their members (and the members' disabilities, enrollments, farms and consents),
 * and vital events (births, deaths, marriages, divorces), as import records (docs/data-formats.md).
 *
 * Deterministic: every choice comes from an sfc32 PRNG seeded with a cyrb128 hash of the seed, and
 * ages are taken at the fixed reference date 2026-01-01 — the same options always give the same
 * records, byte for byte. Identifiers come from running counters (mixed by a bijection for UIN and
 * NID), so they are unique across a run without any bookkeeping.
 *
 * Record order: all areas (country, then each region followed by its districts, each district
 * followed by its wards — parents before children), then the programmes, then for each household
 * its household record (members nested) immediately followed by that household's vital events
 * (births, deaths, marriage, divorce). Every person a vital event refers to is therefore defined
 * on an earlier line, and only one household is ever held in memory.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { COUNTRY, EMAIL_DOMAINS, FEMALE_NAMES, MALE_NAMES, REGIONS, STREETS, SURNAMES } from './generate-names.js';
import type { RegionDef } from './generate-names.js';
import type {
  AreaRecord,
  BenefitInput,
  ConsentInput,
  DisabilityInput,
  EnrollmentInput,
  FarmInput,
  HouseholdRecord,
  IdentifierRef,
  ImportRecord,
  MemberInput,
  ProgrammeRecord,
  VitalEventRecord,
} from './records.js';
import type { Address, Livestock } from '../db/schema.js';

export interface GenerateOptions {
  households: number;
  seed: number | string;
}

export interface GenerateSummary {
  areas: number;
  programmes: number;
  households: number;
  individuals: number;
  vitalEvents: number;
}

// ---------------------------------------------------------------------------------------------
// PRNG: cyrb128 hash of the seed → sfc32

function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    [this.a, this.b, this.c, this.d] = cyrb128(seed);
    for (let i = 0; i < 15; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t0 = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const t = (t0 + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Poisson-distributed count (Knuth; fine for the small means used here). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

/** A fixed weighted choice; weights need not sum to 1. */
class Weighted<T> {
  private readonly items: T[];
  private readonly cumulative: number[];
  private readonly total: number;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    this.items = entries.map((e) => e[0]);
    let sum = 0;
    this.cumulative = entries.map((e) => (sum += e[1]));
    this.total = sum;
  }

  pick(rng: Rng): T {
    const x = rng.next() * this.total;
    const cum = this.cumulative;
    let i = 0;
    while (i < cum.length - 1 && x >= (cum[i] as number)) i++;
    return this.items[i] as T;
  }
}

// ---------------------------------------------------------------------------------------------
// dates, as day numbers since 1970-01-01

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day number packed as yyyymmdd. */
function civilPacked(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 10000 + m * 100 + d;
}

const TABLE_START = daysFromCivil(1890, 1, 1);
const TABLE_END = daysFromCivil(2031, 1, 1);
let packedTable: Int32Array | null = null;
let textTable: string[] | null = null;

function tables(): { packed: Int32Array; text: string[] } {
  if (!packedTable || !textTable) {
    const n = TABLE_END - TABLE_START;
    const packed = new Int32Array(n);
    const text = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const p = civilPacked(TABLE_START + i);
      packed[i] = p;
      const y = Math.floor(p / 10000);
      const m = Math.floor(p / 100) % 100;
      const d = p % 100;
      text[i] = `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
    }
    packedTable = packed;
    textTable = text;
  }
  return { packed: packedTable, text: textTable };
}

function packed(days: number): number {
  const i = days - TABLE_START;
  const table = tables().packed;
  return i >= 0 && i < table.length ? (table[i] as number) : civilPacked(days);
}

function fmt(days: number): string {
  const i = days - TABLE_START;
  const table = tables().text;
  if (i >= 0 && i < table.length) return table[i] as string;
  const p = civilPacked(days);
  return `${Math.floor(p / 10000)}-${String(Math.floor(p / 100) % 100).padStart(2, '0')}-${String(p % 100).padStart(2, '0')}`;
}

function yearOf(days: number): number {
  return Math.floor(packed(days) / 10000);
}

/** Completed years between two days. */
function ageOn(birth: number, on: number): number {
  return Math.floor((packed(on) - packed(birth)) / 10000);
}

/** The day `years` whole years after `days` (29 February → 1 March). */
function addYears(days: number, years: number): number {
  const p = packed(days);
  const y = Math.floor(p / 10000) + years;
  const m = Math.floor(p / 100) % 100;
  const d = p % 100;
  return daysFromCivil(y, m, d);
}

function timestamp(days: number, secondOfDay: number): string {
  const h = Math.floor(secondOfDay / 3600);
  const mi = Math.floor(secondOfDay / 60) % 60;
  const s = secondOfDay % 60;
  return `${fmt(days)}T${h < 10 ? '0' : ''}${h}:${mi < 10 ? '0' : ''}${mi}:${s < 10 ? '0' : ''}${s}Z`;
}

/** Ages are taken at this date; nothing happens on or after it. */
const REF = daysFromCivil(2026, 1, 1);
const LAST = REF - 1;
const REG_START = daysFromCivil(2015, 1, 1);
const REG_END = daysFromCivil(2025, 12, 31);
const YEAR_DAYS = 365.2425;

// ---------------------------------------------------------------------------------------------
// identifiers

const pad7 = (n: number): string => String(n).padStart(7, '0');

/** (a · b) mod m without losing precision, for a < 2^32 and b < m ≤ 2^33 (partial products stay below 2^53). */
function mulMod(a: number, b: number, m: number): number {
  const hi = Math.floor(a / 65536);
  const lo = a % 65536;
  return (((((hi * b) % m) * 65536) % m) + ((lo * b) % m)) % m;
}

/** Luhn check digit for a string of digits. */
function luhn(digits: string): number {
  let sum = 0;
  let double = true;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return (10 - (sum % 10)) % 10;
}

const UIN_SPACE = 900_000_000; // 9-digit bodies 100000000–999999999, + a Luhn digit = 10 digits
const UIN_MULTIPLIER = 735_632_791; // coprime with UIN_SPACE: the map is a bijection
const NID_SPACE = 90_000_000; // 8 digits 10000000–99999999
const NID_MULTIPLIER = 31_415_927; // coprime with NID_SPACE

// ---------------------------------------------------------------------------------------------
// static tables

interface Ward {
  code: string;
  name: string;
  districtName: string;
  regionCode: string;
  districtCode: string;
  region: RegionDef;
  latitude: number;
  longitude: number;
}

const PROGRAMMES: ProgrammeRecord[] = [
  {
    type: 'programme',
    code: 'CT-OVC',
    name: 'Cash Transfer for Orphans and Vulnerable Children',
    description: 'Monthly cash transfer to poor households caring for orphans and vulnerable children.',
    institution: 'Ministry of Labour and Social Protection',
    programme_type: 'cash_transfer',
    benefit_type: 'cash',
  },
  {
    type: 'programme',
    code: 'OAP',
    name: 'Old Age Pension',
    description: 'Universal social pension for residents aged 65 and over.',
    institution: 'Ministry of Labour and Social Protection',
    programme_type: 'social_pension',
    benefit_type: 'cash',
  },
  {
    type: 'programme',
    code: 'HSNP',
    name: 'Hunger Safety Net Programme',
    description: 'Regular cash transfers to poor households in the arid and semi-arid regions.',
    institution: 'National Drought Management Authority',
    programme_type: 'cash_transfer',
    benefit_type: 'cash',
  },
  {
    type: 'programme',
    code: 'SFP',
    name: 'National School Meals Programme',
    description: 'Daily school meals for children of poor households in public primary schools.',
    institution: 'Ministry of Education',
    programme_type: 'school_feeding',
    benefit_type: 'in_kind',
  },
  {
    type: 'programme',
    code: 'PWSD-CT',
    name: 'Cash Transfer for Persons with Severe Disabilities',
    description: 'Monthly disability grant for persons with severe disabilities and their caregivers.',
    institution: 'National Council for Persons with Disabilities',
    programme_type: 'disability_grant',
    benefit_type: 'cash',
  },
];

const OAP_START = daysFromCivil(2015, 7, 1);
const PWSD_START = daysFromCivil(2016, 1, 1);
const CURRENCY = 'KLS';

const SPOUSE_GAP = new Weighted<number>([
  [-3, 1],
  [-1, 2],
  [0, 3],
  [2, 4],
  [4, 4],
  [6, 3],
  [9, 2],
  [13, 1],
  [18, 0.4],
]);

const HEAD_AGE = new Weighted<readonly [number, number]>([
  [[18, 24], 8],
  [[25, 34], 24],
  [[35, 44], 24],
  [[45, 54], 18],
  [[55, 64], 13],
  [[65, 74], 8],
  [[75, 92], 5],
]);

const UNMARRIED_YOUNG = new Weighted<string>([
  ['S', 85],
  ['L', 8],
  ['D', 5],
  ['U', 2],
]);
const UNMARRIED_MID = new Weighted<string>([
  ['S', 30],
  ['D', 24],
  ['W', 24],
  ['L', 16],
  ['U', 4],
  ['A', 2],
]);
const UNMARRIED_OLD = new Weighted<string>([
  ['W', 72],
  ['D', 12],
  ['S', 8],
  ['L', 6],
  ['U', 2],
]);
const ELDER_MARITAL = new Weighted<string>([
  ['W', 82],
  ['D', 10],
  ['L', 8],
]);
const ADULT_RELATIVE_MARITAL = new Weighted<string>([
  ['S', 55],
  ['D', 15],
  ['W', 12],
  ['L', 12],
  ['U', 6],
]);

const EDUCATION_OLD = new Weighted<string>([
  ['none', 45],
  ['primary', 38],
  ['secondary', 12],
  ['vocational', 2],
  ['tertiary', 3],
]);
const EDUCATION_MID = new Weighted<string>([
  ['none', 18],
  ['primary', 40],
  ['secondary', 28],
  ['vocational', 7],
  ['tertiary', 7],
]);
const EDUCATION_YOUNG = new Weighted<string>([
  ['none', 7],
  ['primary', 28],
  ['secondary', 42],
  ['vocational', 10],
  ['tertiary', 13],
]);

const EMPLOYMENT_YOUTH = new Weighted<string>([
  ['student', 25],
  ['unemployed', 25],
  ['self_employed', 25],
  ['employed', 15],
  ['not_in_labour_force', 10],
]);
const EMPLOYMENT_ADULT = new Weighted<string>([
  ['self_employed', 50],
  ['employed', 22],
  ['unemployed', 15],
  ['not_in_labour_force', 13],
]);
const EMPLOYMENT_ELDER = new Weighted<string>([
  ['self_employed', 45],
  ['retired', 30],
  ['not_in_labour_force', 25],
]);

const SELF_EMPLOYED_WORK = new Weighted<string>([
  ['farmer', 50],
  ['trader', 18],
  ['tailor', 5],
  ['boda boda rider', 8],
  ['mechanic', 4],
  ['carpenter', 4],
  ['hairdresser', 4],
  ['charcoal seller', 3],
  ['fisher', 2],
  ['pastoralist', 2],
]);
const EMPLOYED_WORK = new Weighted<string>([
  ['casual labourer', 30],
  ['domestic worker', 12],
  ['teacher', 10],
  ['driver', 9],
  ['security guard', 8],
  ['shop attendant', 9],
  ['nurse', 5],
  ['civil servant', 6],
  ['factory worker', 6],
  ['farm labourer', 5],
]);

const DISABILITY_TYPE = new Weighted<string>([
  ['physical', 34],
  ['visual', 18],
  ['hearing', 13],
  ['intellectual', 11],
  ['psychosocial', 9],
  ['speech', 5],
  ['multiple', 10],
]);
const SEVERITY = new Weighted<number>([
  [1, 30],
  [2, 32],
  [3, 23],
  [4, 15],
]);
const DISABILITY_STATUS = new Weighted<string>([
  ['approved', 85],
  ['pending', 10],
  ['expired', 5],
]);
const DISABILITY_CAUSE = new Weighted<string>([
  ['congenital', 30],
  ['illness', 30],
  ['injury', 18],
  ['ageing', 12],
  ['unknown', 10],
]);

const FARM_TYPE = new Weighted<string>([
  ['crop', 55],
  ['mixed', 35],
  ['horticulture', 10],
]);
const LAND_TENURE = new Weighted<string>([
  ['owned', 45],
  ['customary', 25],
  ['leased', 15],
  ['communal', 15],
]);
const LAND_TENURE_ARID = new Weighted<string>([
  ['communal', 45],
  ['customary', 35],
  ['owned', 15],
  ['leased', 5],
]);
const IRRIGATION = new Weighted<string>([
  ['rainfed', 66],
  ['none', 9],
  ['flood', 9],
  ['drip', 8],
  ['sprinkler', 8],
]);
const CROPS_DEFAULT = ['maize', 'maize', 'maize', 'beans', 'beans', 'potato', 'sorghum', 'cassava', 'wheat'];
const CROPS_HIGHLAND = [
  'maize',
  'maize',
  'beans',
  'beans',
  'tea',
  'tea',
  'coffee',
  'coffee',
  'potato',
  'potato',
  'wheat',
];
const CROPS_WATER = ['maize', 'maize', 'cassava', 'cassava', 'rice', 'rice', 'sorghum', 'beans'];
const CROPS_ARID = ['sorghum', 'sorghum', 'maize', 'maize', 'beans', 'cassava'];
const LIVESTOCK_DEFAULT = ['cattle', 'cattle', 'goat', 'goat', 'sheep', 'poultry', 'poultry', 'poultry'];
const LIVESTOCK_ARID = ['cattle', 'goat', 'goat', 'goat', 'sheep', 'sheep', 'camel', 'camel', 'poultry'];
const LIVESTOCK_MAX: Record<string, number> = { cattle: 25, goat: 40, sheep: 30, poultry: 60, camel: 15 };

const BIRTH_PLACE = new Weighted<string>([
  ['district', 40],
  ['health_centre', 32],
  ['home', 28],
]);
const MARRIAGE_PLACE = new Weighted<string>([
  ['registry', 40],
  ['church', 35],
  ['mosque', 15],
  ['home', 10],
]);

/** Age-specific probabilities, indexed by completed years at the reference date. */
function deathChance(age: number): number {
  if (age < 5) return 0.008;
  if (age < 50) return 0.004;
  if (age < 65) return 0.016;
  if (age < 75) return 0.045;
  return 0.11;
}

function disabilityChance(age: number): number {
  if (age < 18) return 0.03;
  if (age < 60) return 0.05;
  if (age < 75) return 0.12;
  return 0.22;
}

// ---------------------------------------------------------------------------------------------
// generator

type Sex = 'male' | 'female';

interface Person {
  relationship: string;
  sex: Sex;
  birth: number;
  /** Death day, or -1. */
  death: number;
  givenName: string;
  secondName: string | null;
  surname: string;
  maidenName: string | null;
  marital: string;
  uin: string;
  brn: string | null;
}

interface HouseholdOut {
  record: HouseholdRecord;
  events: VitalEventRecord[];
  individuals: number;
}

class RegistryGenerator {
  readonly rng: Rng;
  readonly wards: Ward[];
  readonly areas: AreaRecord[];
  private readonly wardCumulative: number[];
  private readonly wardTotal: number;
  private readonly uinOffset: number;
  private readonly nidOffset: number;
  private individualCount = 0;
  private nidCount = 0;
  private householdCount = 0;
  private farmCount = 0;
  private readonly sequences = new Map<string, number>();

  constructor(seed: string) {
    this.rng = new Rng(`opendci-synthetic:${seed}`);
    this.uinOffset = this.rng.u32() % UIN_SPACE;
    this.nidOffset = this.rng.u32() % NID_SPACE;

    // The geography is fixed (independent of the seed): its own PRNG places and weights the wards.
    const geo = new Rng('kalima-geography');
    this.areas = [{ type: 'area', code: COUNTRY.code, name: COUNTRY.name, level: 0 }];
    this.wards = [];
    const weights: number[] = [];
    REGIONS.forEach((region, r) => {
      const regionCode = `${COUNTRY.code}-${String(r + 1).padStart(2, '0')}`;
      this.areas.push({ type: 'area', code: regionCode, name: region.name, level: 1, parent_code: COUNTRY.code });
      region.districts.forEach((district, d) => {
        const districtCode = `${regionCode}-${String(d + 1).padStart(2, '0')}`;
        this.areas.push({ type: 'area', code: districtCode, name: district.name, level: 2, parent_code: regionCode });
        const dLat = region.latitude + (geo.next() - 0.5) * 1.2;
        const dLon = region.longitude + (geo.next() - 0.5) * 1.2;
        district.wards.forEach((wardName, w) => {
          const code = `${districtCode}-${String(w + 1).padStart(2, '0')}`;
          this.areas.push({ type: 'area', code, name: wardName, level: 3, parent_code: districtCode });
          this.wards.push({
            code,
            name: wardName,
            districtName: district.name,
            regionCode,
            districtCode,
            region,
            latitude: dLat + (geo.next() - 0.5) * 0.3,
            longitude: dLon + (geo.next() - 0.5) * 0.3,
          });
          // the first ward of a district is its (more populous) headquarters
          weights.push(region.weight * (w === 0 ? 1.8 : 0.7 + geo.next() * 0.6));
        });
      });
    });
    let sum = 0;
    this.wardCumulative = weights.map((w) => (sum += w));
    this.wardTotal = sum;
  }

  private pickWard(): Ward {
    const x = this.rng.next() * this.wardTotal;
    let lo = 0;
    let hi = this.wardCumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x < (this.wardCumulative[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return this.wards[lo] as Ward;
  }

  private nextSequence(prefix: string, year: number): string {
    const key = `${prefix}-${year}`;
    const n = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, n);
    return `${key}-${pad7(n)}`;
  }

  private nextUin(): string {
    const n = this.individualCount++;
    if (n >= UIN_SPACE) throw new Error('too many individuals for the UIN space');
    const body = String(100_000_000 + ((mulMod(n, UIN_MULTIPLIER, UIN_SPACE) + this.uinOffset) % UIN_SPACE));
    return body + String(luhn(body));
  }

  private nextNid(): string {
    const n = this.nidCount++;
    if (n >= NID_SPACE) throw new Error('too many national IDs for the NID space');
    return String(10_000_000 + ((mulMod(n, NID_MULTIPLIER, NID_SPACE) + this.nidOffset) % NID_SPACE));
  }

  private birthFromAge(age: number): number {
    return REF - 1 - Math.floor((age + this.rng.next()) * YEAR_DAYS);
  }

  private givenName(sex: Sex): string {
    return this.rng.pick(sex === 'male' ? MALE_NAMES : FEMALE_NAMES);
  }

  private otherSurname(not: string): string {
    let s = this.rng.pick(SURNAMES);
    if (s === not) s = this.rng.pick(SURNAMES);
    return s;
  }

  private person(relationship: string, sex: Sex, birth: number, surname: string, marital: string): Person {
    const rng = this.rng;
    const givenName = this.givenName(sex);
    let secondName: string | null = null;
    if (rng.chance(0.4)) {
      secondName = this.givenName(sex);
      if (secondName === givenName) secondName = null;
    }
    const uin = this.nextUin();
    const year = yearOf(birth);
    const brn = year >= 2000 ? this.nextSequence('BRN', year) : null;
    return { relationship, sex, birth, death: -1, givenName, secondName, surname, maidenName: null, marital, uin, brn };
  }

  household(): HouseholdOut {
    const rng = this.rng;
    const hhNumber = ++this.householdCount;
    const ward = this.pickWard();
    const region = ward.region;

    // ---- composition
    const headRange = HEAD_AGE.pick(rng);
    const headAge = rng.int(headRange[0], headRange[1]);
    const alone = rng.chance(0.08);
    const spouseChance = headAge < 25 ? 0.45 : headAge < 60 ? 0.78 : 0.55;
    const married = !alone && rng.chance(spouseChance);
    const headSex: Sex = married
      ? rng.chance(0.82)
        ? 'male'
        : 'female'
      : alone
        ? rng.chance(headAge >= 60 ? 0.4 : 0.55)
          ? 'male'
          : 'female'
        : rng.chance(0.3)
          ? 'male'
          : 'female';
    const headMarital = married
      ? 'M'
      : (headAge < 30 ? UNMARRIED_YOUNG : headAge < 60 ? UNMARRIED_MID : UNMARRIED_OLD).pick(rng);

    const familySurname = rng.pick(SURNAMES);
    const head = this.person('head', headSex, this.birthFromAge(headAge), familySurname, headMarital);
    // registered between 2015 and 2025, once the head was an adult
    const reg = rng.int(Math.min(REG_END, Math.max(REG_START, addYears(head.birth, 18))), REG_END);
    const members: Person[] = [head];
    let spouse: Person | null = null;
    if (married) {
      const spouseSex: Sex = headSex === 'male' ? 'female' : 'male';
      const gap = SPOUSE_GAP.pick(rng) + rng.int(0, 1);
      let spouseAge = headSex === 'male' ? headAge - gap : headAge + gap;
      spouseAge = Math.min(95, Math.max(18, spouseAge));
      spouse = this.person('spouse', spouseSex, this.birthFromAge(spouseAge), familySurname, 'M');
      members.push(spouse);
      // the wife takes her husband's surname (keeping her maiden name) 70% of the time
      const wife = headSex === 'female' ? head : spouse;
      const own = this.otherSurname(familySurname);
      if (rng.chance(0.7)) wife.maidenName = own;
      else wife.surname = own;
    } else if (headSex === 'female' && (headMarital === 'W' || headMarital === 'D') && rng.chance(0.5)) {
      head.maidenName = this.otherSurname(familySurname);
    }
    const headBirthSurname = head.maidenName ?? head.surname;

    if (!alone) {
      // children of the head (and spouse): at least 17 years younger than the younger parent
      const mother = head.sex === 'female' ? head : spouse && spouse.sex === 'female' ? spouse : null;
      const youngerParent = spouse && spouse.birth > head.birth ? spouse : head;
      const lo = Math.max(addYears(youngerParent.birth, 17) + 1, addYears(REF, -38));
      const hi = Math.min(LAST - 1, addYears(mother ? mother.birth : head.birth, mother ? 45 : 60));
      const mean = headAge < 25 ? 1.0 : headAge < 45 ? 2.75 : headAge < 60 ? 2.2 : 0.9;
      if (lo <= hi) {
        const count = Math.min(rng.poisson(mean), 8);
        const births: number[] = [];
        for (let i = 0; i < count; i++) births.push(rng.int(lo, hi));
        births.sort((a, b) => a - b);
        for (const birth of births) {
          const surname = rng.chance(0.9) ? familySurname : this.otherSurname(familySurname);
          const child = this.person('child', rng.chance(0.5) ? 'male' : 'female', birth, surname, 'S');
          members.push(child);
        }
      }
      // grandchildren, for older heads
      if (headAge >= 48 && members.length < 10 && rng.chance(0.28)) {
        const glo = Math.max(addYears(head.birth, 34), addYears(REF, -17));
        if (glo <= LAST - 1) {
          const count = rng.int(1, 3);
          for (let i = 0; i < count && members.length < 10; i++) {
            const surname = rng.chance(0.65) ? familySurname : this.otherSurname(familySurname);
            members.push(
              this.person('grandchild', rng.chance(0.5) ? 'male' : 'female', rng.int(glo, LAST - 1), surname, 'S'),
            );
          }
        }
      }
    }
    // the head's parent(s)
    let youngestParentOfHead = -1;
    if (headAge < 58 && members.length < 10 && rng.chance(alone ? 0.02 : 0.08)) {
      const count = rng.chance(0.15) ? 2 : 1;
      const plo = Math.max(addYears(REF, -98), addYears(head.birth, -45));
      const phi = addYears(head.birth, -18);
      if (plo <= phi) {
        for (let i = 0; i < count && members.length < 10; i++) {
          const sex: Sex = count === 2 ? (i === 0 ? 'male' : 'female') : rng.chance(0.7) ? 'female' : 'male';
          const parent = this.person(
            'parent',
            sex,
            rng.int(plo, phi),
            headBirthSurname,
            count === 2 ? 'M' : ELDER_MARITAL.pick(rng),
          );
          youngestParentOfHead = Math.max(youngestParentOfHead, parent.birth);
          members.push(parent);
        }
      }
    }
    // a grandparent, for young heads
    if (headAge < 35 && members.length < 10 && rng.chance(0.03)) {
      const glo = Math.max(addYears(REF, -100), addYears(head.birth, -80));
      const ghi = addYears(head.birth, -36);
      if (glo <= ghi) {
        members.push(
          this.person('grandparent', rng.chance(0.7) ? 'female' : 'male', rng.int(glo, ghi), headBirthSurname, 'W'),
        );
      }
    }
    // siblings of the head
    if (!alone && members.length < 10 && rng.chance(headAge < 30 ? 0.14 : 0.05)) {
      // born within the head's parents' child-bearing years when they live here too
      const slo = Math.max(
        addYears(head.birth, -10),
        youngestParentOfHead >= 0 ? addYears(youngestParentOfHead, 17) : -Infinity,
      );
      const shi = Math.min(
        LAST - 1,
        addYears(head.birth, 12),
        youngestParentOfHead >= 0 ? addYears(youngestParentOfHead, 45) : Infinity,
      );
      const count = slo <= shi ? (rng.chance(0.25) ? 2 : 1) : 0;
      for (let i = 0; i < count && members.length < 10; i++) {
        const birth = rng.int(slo, shi);
        const age = ageOn(birth, REF);
        const marital = age < 18 ? 'S' : ADULT_RELATIVE_MARITAL.pick(rng);
        members.push(this.person('sibling', rng.chance(0.5) ? 'male' : 'female', birth, headBirthSurname, marital));
      }
    }
    // another relative (niece, nephew, cousin, aunt …)
    if (!alone && members.length < 10 && rng.chance(0.08)) {
      const age = rng.chance(0.6) ? rng.int(0, 17) : rng.int(18, 80);
      const surname = rng.chance(0.5) ? familySurname : this.otherSurname(familySurname);
      const marital = age < 18 ? 'S' : ADULT_RELATIVE_MARITAL.pick(rng);
      members.push(
        this.person('other_relative', rng.chance(0.5) ? 'male' : 'female', this.birthFromAge(age), surname, marital),
      );
    }

    // ---- deaths (after registration; parents outlive the birth of their youngest child)
    let youngestChild = -1;
    for (const p of members) if (p.relationship === 'child' && p.birth > youngestChild) youngestChild = p.birth;
    for (const p of members) {
      if (!rng.chance(deathChance(ageOn(p.birth, REF)))) continue;
      let lo = Math.max(p.birth + 1, reg);
      if (p === head || p === spouse) lo = Math.max(lo, youngestChild);
      if (lo > LAST) continue;
      p.death = rng.int(lo, LAST);
    }
    if (spouse) {
      if (head.death >= 0 && spouse.death < 0) spouse.marital = 'W';
      else if (spouse.death >= 0 && head.death < 0) head.marital = 'W';
    }

    // ---- household
    const address = this.address(ward);
    const languageCode = region.arid ? (rng.chance(0.6) ? 'so' : 'sw') : rng.chance(0.85) ? 'sw' : 'en';
    let score = this.povertyScore();
    if (region.arid) score *= 0.8;
    score = Math.round(score * 10) / 10;

    const memberRecords = members.map((p) => this.member(p, ward, address, reg, languageCode, p === head));

    const record: HouseholdRecord = {
      type: 'household',
      identifiers: [{ type: 'HHID', value: `HH-${pad7(hhNumber)}` }],
      group_type: rng.chance(0.05) ? 'family' : 'household',
      area_code: ward.code,
      address: {
        ...address,
        sub_region_code: ward.districtCode,
        geo_location: {
          latitude: Math.round((ward.latitude + (rng.next() - 0.5) * 0.08) * 1e5) / 1e5,
          longitude: Math.round((ward.longitude + (rng.next() - 0.5) * 0.08) * 1e5) / 1e5,
        },
      },
      poverty_score: score,
      poverty_score_type: 'PMT',
      registration_date: fmt(reg),
      members: memberRecords,
    };
    const enrollment = this.householdEnrollment(members, region.arid, score, reg);
    if (enrollment) record.enrollments = [enrollment];

    return { record, events: this.vitalEvents(members, head, spouse, ward), individuals: members.length };
  }

  private povertyScore(): number {
    // Kumaraswamy(1.8, 3): skewed towards the poorer (lower) end, mean ≈ 0.4
    const u = this.rng.next();
    return 100 * Math.pow(1 - Math.pow(1 - u, 1 / 3), 1 / 1.8);
  }

  private address(ward: Ward): Address {
    const rng = this.rng;
    const street = rng.pick(STREETS);
    const kind = rng.next();
    const line =
      kind < 0.5
        ? `Plot ${rng.int(1, 999)}, ${street} Road`
        : kind < 0.8
          ? `House ${rng.int(1, 250)}, ${street} Street`
          : `${street} Village`;
    return { address_line_1: line, locality: ward.name, region_code: ward.regionCode, country_code: COUNTRY.code };
  }

  private member(
    p: Person,
    ward: Ward,
    address: Address,
    reg: number,
    languageCode: string,
    isHead: boolean,
  ): MemberInput {
    const rng = this.rng;
    const age = ageOn(p.birth, REF);
    const alive = p.death < 0;
    const end = alive ? LAST : p.death; // the last day the person could act
    const identifiers: IdentifierRef[] = [{ type: 'UIN', value: p.uin }];
    if (p.brn) identifiers.push({ type: 'BRN', value: p.brn });
    if (age >= 18 && rng.chance(0.7)) identifiers.push({ type: 'NID', value: this.nextNid() });

    const m: MemberInput = { relationship: p.relationship, identifiers, given_name: p.givenName };
    if (p.secondName) m.second_name = p.secondName;
    m.surname = p.surname;
    if (p.maidenName) m.maiden_name = p.maidenName;
    m.sex = p.sex;
    m.birth_date = fmt(p.birth);
    if (!alive) m.death_date = fmt(p.death);
    m.marital_status = p.marital;

    if (age >= 18 && rng.chance(0.9)) {
      const phones = [`+2547${String(rng.int(0, 99_999_999)).padStart(8, '0')}`];
      if (rng.chance(0.1)) phones.push(`+2541${String(rng.int(0, 99_999_999)).padStart(8, '0')}`);
      m.phones = phones;
      if (rng.chance(0.33)) {
        m.emails = [
          `${p.givenName}.${p.surname}${rng.int(1, 99)}@${rng.pick(EMAIL_DOMAINS)}`.toLowerCase().replace(/ /g, ''),
        ];
      }
    }
    // Members share the household's address: it is stored once, on the household and its head.
    if (isHead) m.address = address;
    m.area_code = ward.code;
    const registered = p.birth > reg ? Math.min(end, p.birth + rng.int(0, 60)) : reg;
    m.registration_date = fmt(registered);

    // education and work
    if (age >= 3) {
      let employment: string | null = null;
      let occupation: string | null = null;
      if (age < 6) m.education_level = 'pre_primary';
      else if (age < 18) {
        m.education_level = age < 14 ? 'primary' : 'secondary';
        employment = rng.chance(0.92) ? 'student' : 'not_in_labour_force';
      } else {
        const cohort = yearOf(p.birth);
        m.education_level = (cohort < 1960 ? EDUCATION_OLD : cohort < 1986 ? EDUCATION_MID : EDUCATION_YOUNG).pick(rng);
        employment = (age < 25 ? EMPLOYMENT_YOUTH : age < 65 ? EMPLOYMENT_ADULT : EMPLOYMENT_ELDER).pick(rng);
        if (employment === 'self_employed') {
          occupation = SELF_EMPLOYED_WORK.pick(rng);
          if (occupation === 'farmer' && ward.region.arid && rng.chance(0.6)) occupation = 'pastoralist';
          else if (occupation === 'farmer' && ward.region.water && rng.chance(0.2)) occupation = 'fisher';
        } else if (employment === 'employed') occupation = EMPLOYED_WORK.pick(rng);
      }
      if (occupation) m.occupation = occupation;
      if (employment) m.employment_status = employment;
    }
    m.language_code = languageCode;

    // disability
    let disability: DisabilityInput | null = null;
    let assessed = -1;
    if (rng.chance(disabilityChance(age))) {
      const type = DISABILITY_TYPE.pick(rng);
      const severity = SEVERITY.pick(rng);
      const cause = DISABILITY_CAUSE.pick(rng);
      const lifespan = ageOn(p.birth, end);
      const onset =
        cause === 'congenital' ? 0 : cause === 'ageing' ? Math.max(0, lifespan - rng.int(0, 15)) : rng.int(0, lifespan);
      const from = Math.max(addYears(p.birth, onset), daysFromCivil(2012, 1, 1));
      assessed = from <= end ? rng.int(from, end) : end;
      disability = {
        disability_type: type,
        functional_severity: severity,
        status: DISABILITY_STATUS.pick(rng),
        support_level: Math.min(4, Math.max(1, severity + rng.int(-1, 1))),
        cause,
        age_of_onset: onset,
        assessed_on: fmt(assessed),
      };
      m.disabilities = [disability];
    }

    // individual programmes: old age pension, disability grant
    const enrollments: EnrollmentInput[] = [];
    const turned65 = addYears(p.birth, 65);
    if (turned65 <= end && rng.chance(0.8)) {
      const lo = Math.max(turned65, registered, OAP_START);
      if (lo <= end - 30) {
        const e = this.enrollment('OAP', rng.int(lo, Math.min(end - 30, lo + 365)), p.death, 2000, 'cash');
        if (e) enrollments.push(e);
      }
    }
    if (
      disability &&
      disability.status === 'approved' &&
      (disability.functional_severity ?? 0) >= 3 &&
      rng.chance(0.6)
    ) {
      const lo = Math.max(assessed, registered, PWSD_START);
      if (lo <= end - 30) {
        const e = this.enrollment('PWSD-CT', rng.int(lo, Math.min(end - 30, lo + 180)), p.death, 2000, 'cash');
        if (e) enrollments.push(e);
      }
    }
    if (enrollments.length > 0) m.enrollments = enrollments;

    // a farm, for some heads
    if (isHead) {
      const farmChance = m.occupation === 'farmer' ? 0.75 : m.occupation === 'pastoralist' ? 0.7 : 0.1;
      if (rng.chance(farmChance))
        m.farms = [this.farm(ward, m.occupation === 'pastoralist', Math.min(end, reg + rng.int(0, 180)))];
    }

    // consent to share data with the demo client
    if (alive && age >= 18 && rng.chance(0.1)) m.consents = [this.consent()];
    return m;
  }

  /**
   * An enrollment in a programme, with 1–3 of the most recent monthly payments before it ended
   * (the person's death, a suspension or graduation, or the reference date).
   */
  private enrollment(
    code: string,
    start: number,
    death: number,
    amount: number,
    benefitType: string,
  ): EnrollmentInput | null {
    const rng = this.rng;
    const e: EnrollmentInput = { programme_code: code, status: 'active', enrollment_date: fmt(start) };
    let stop = LAST;
    if (death >= 0) {
      e.status = 'deceased';
      e.status_change_date = fmt(death);
      stop = death;
    } else {
      const r = rng.next();
      const changeable = LAST - start > 120;
      if (changeable && r < (code === 'OAP' ? 0.05 : 0.08)) e.status = 'suspended';
      else if (changeable && code !== 'OAP' && code !== 'PWSD-CT' && r < 0.2) e.status = 'graduated';
      if (e.status !== 'active') {
        stop = rng.int(start + 90, LAST);
        e.status_change_date = fmt(stop);
      }
    }
    const benefits: BenefitInput[] = [];
    const wanted = rng.int(1, 3);
    const p = packed(stop);
    let y = Math.floor(p / 10000);
    let mo = Math.floor(p / 100) % 100;
    if (p % 100 < 5) mo--;
    for (let i = 0; i < wanted; i++) {
      if (mo < 1) {
        mo += 12;
        y--;
      }
      const day = daysFromCivil(y, mo, 5);
      if (day <= start) break;
      benefits.unshift(
        benefitType === 'cash'
          ? { benefit_type: 'cash', benefit_date: fmt(day), amount, currency: CURRENCY }
          : {
              benefit_type: benefitType,
              benefit_date: fmt(day),
              amount,
              currency: CURRENCY,
              quantity: 20,
              description: 'school meals (20 days)',
            },
      );
      mo--;
    }
    if (benefits.length > 0) e.benefits = benefits;
    return e;
  }

  private householdEnrollment(members: Person[], arid: boolean, score: number, reg: number): EnrollmentInput | null {
    const rng = this.rng;
    const p = score < 25 ? 0.85 : score < 40 ? 0.55 : score < 55 ? 0.25 : 0.06;
    if (!rng.chance(p)) return null;
    let minors = 0;
    let schoolAge = 0;
    for (const m of members) {
      if (m.death >= 0) continue;
      const age = ageOn(m.birth, REF);
      if (age < 18) minors++;
      if (age >= 5 && age <= 14) schoolAge++;
    }
    let code: string;
    if (arid && rng.chance(0.75)) code = 'HSNP';
    else if (schoolAge > 0 && rng.chance(0.35)) code = 'SFP';
    else if (minors > 0) code = 'CT-OVC';
    else if (arid) code = 'HSNP';
    else return null;
    const lo = Math.max(reg, daysFromCivil(2015, 7, 1));
    if (lo > LAST - 60) return null;
    const start = rng.int(lo, Math.min(LAST - 60, lo + 540));
    switch (code) {
      case 'HSNP':
        return this.enrollment(code, start, -1, 2700, 'cash');
      case 'SFP':
        return this.enrollment(code, start, -1, 600 * Math.min(schoolAge, 4), 'in_kind');
      default:
        return this.enrollment(code, start, -1, 2000 + 500 * Math.min(minors, 4), 'cash');
    }
  }

  private farm(ward: Ward, pastoralist: boolean, registered: number): FarmInput {
    const rng = this.rng;
    const region = ward.region;
    const farmType = pastoralist ? 'livestock' : FARM_TYPE.pick(rng);
    const landSize = Math.round((0.2 + 19.8 * Math.pow(rng.next(), 4)) * 100) / 100;
    const cropPool = region.arid
      ? CROPS_ARID
      : region.water
        ? CROPS_WATER
        : region.name === 'Milima'
          ? CROPS_HIGHLAND
          : CROPS_DEFAULT;
    const cropCount = farmType === 'livestock' ? 1 : rng.int(1, 3);
    const crops: string[] = [];
    for (let i = 0; i < cropCount * 3 && crops.length < cropCount; i++) {
      const c = rng.pick(cropPool);
      if (!crops.includes(c)) crops.push(c);
    }
    const farm: FarmInput = {
      identifiers: [{ type: 'FARM', value: `FARM-${pad7(++this.farmCount)}` }],
      farm_type: farmType,
      land_size: landSize,
      land_tenure: (region.arid ? LAND_TENURE_ARID : LAND_TENURE).pick(rng),
      measurement_unit: 'hectare',
      crop_types: crops,
      irrigation_type: crops.includes('rice') && rng.chance(0.7) ? 'flood' : IRRIGATION.pick(rng),
    };
    if (farmType === 'livestock' || (farmType === 'mixed' && rng.chance(0.7)) || rng.chance(0.12)) {
      const pool = region.arid ? LIVESTOCK_ARID : LIVESTOCK_DEFAULT;
      const kinds = farmType === 'livestock' ? rng.int(2, 3) : rng.int(1, 2);
      const livestock: Livestock[] = [];
      for (let i = 0; i < kinds * 3 && livestock.length < kinds; i++) {
        const type = rng.pick(pool);
        if (livestock.some((l) => l.type === type)) continue;
        const max = LIVESTOCK_MAX[type] ?? 10;
        livestock.push({ type, count: 1 + Math.floor(Math.pow(rng.next(), 2) * max) });
      }
      farm.livestock = livestock;
    }
    farm.area_code = ward.code;
    farm.registration_date = fmt(registered);
    return farm;
  }

  private consent(): ConsentInput {
    const rng = this.rng;
    const kind = rng.next();
    if (kind < 0.1) {
      // expired: given in 2024 or early 2025, for 3–10 months
      const given = rng.int(daysFromCivil(2024, 1, 1), daysFromCivil(2025, 3, 1));
      return {
        sender_id: 'demo-client',
        purpose: 'any',
        given_at: timestamp(given, rng.int(6 * 3600, 20 * 3600)),
        expires_at: timestamp(given + rng.int(90, 300), 0),
      };
    }
    const given = rng.int(daysFromCivil(2024, 1, 1), daysFromCivil(2025, 12, 30));
    const c: ConsentInput = {
      sender_id: 'demo-client',
      purpose: 'any',
      given_at: timestamp(given, rng.int(6 * 3600, 20 * 3600)),
    };
    if (kind < 0.15) c.revoked_at = timestamp(rng.int(given + 1, LAST), rng.int(6 * 3600, 20 * 3600));
    else if (kind < 0.65) c.expires_at = timestamp(addYears(given, rng.chance(0.5) ? 2 : 3), 0);
    return c;
  }

  private vitalEvents(members: Person[], head: Person, spouse: Person | null, ward: Ward): VitalEventRecord[] {
    const rng = this.rng;
    const events: VitalEventRecord[] = [];
    const BIRTHS_FROM = daysFromCivil(2018, 1, 1);
    for (const p of members) {
      if (p.birth < BIRTHS_FROM || !p.brn) continue;
      const place = BIRTH_PLACE.pick(rng);
      const e: VitalEventRecord = {
        type: 'vital_event',
        event_type: 'live_birth',
        registration_number: p.brn,
        event_date: fmt(p.birth),
        subject: { type: 'UIN', value: p.uin },
      };
      if (p.relationship === 'child') {
        e.parent1 = { type: 'UIN', value: head.uin };
        if (spouse) e.parent2 = { type: 'UIN', value: spouse.uin };
      }
      e.place =
        place === 'home'
          ? 'home'
          : place === 'district'
            ? `${ward.districtName} District Hospital`
            : `${ward.name} Health Centre`;
      e.area_code = ward.code;
      e.registration_date = fmt(Math.min(LAST, p.birth + rng.int(0, 90)));
      events.push(e);
    }
    for (const p of members) {
      if (p.death < 0) continue;
      const place = rng.next();
      events.push({
        type: 'vital_event',
        event_type: 'death',
        registration_number: this.nextSequence('DRN', yearOf(p.death)),
        event_date: fmt(p.death),
        subject: { type: 'UIN', value: p.uin },
        place:
          place < 0.45 ? 'home' : place < 0.8 ? `${ward.districtName} District Hospital` : `${ward.name} Health Centre`,
        area_code: ward.code,
        registration_date: fmt(Math.min(LAST, p.death + rng.int(0, 30))),
      });
    }
    if (spouse && rng.chance(0.5)) {
      // married once both were adults; usually shortly before their first child
      const lo = Math.max(addYears(head.birth, 18), addYears(spouse.birth, 18));
      let hi = LAST;
      if (head.death >= 0) hi = Math.min(hi, head.death);
      if (spouse.death >= 0) hi = Math.min(hi, spouse.death);
      let eldest = -1;
      for (const p of members) if (p.relationship === 'child' && (eldest < 0 || p.birth < eldest)) eldest = p.birth;
      if (lo <= hi) {
        const target = eldest >= 0 ? eldest - rng.int(0, 4 * 365) : rng.int(lo, Math.min(hi, lo + 12 * 365));
        const day = Math.min(hi, Math.max(lo, target));
        const placeKind = MARRIAGE_PLACE.pick(rng);
        events.push({
          type: 'vital_event',
          event_type: 'marriage',
          registration_number: this.nextSequence('MRN', yearOf(day)),
          event_date: fmt(day),
          subject: { type: 'UIN', value: head.uin },
          partner: { type: 'UIN', value: spouse.uin },
          place:
            placeKind === 'registry'
              ? `${ward.districtName} Civil Registry`
              : placeKind === 'church'
                ? `${ward.name} Parish Church`
                : placeKind === 'mosque'
                  ? `${ward.name} Jamia Mosque`
                  : 'home',
          area_code: ward.code,
          registration_date: fmt(Math.min(LAST, day + rng.int(0, 14))),
        });
      }
    }
    if (!spouse && head.marital === 'D' && rng.chance(0.36)) {
      const lo = addYears(head.birth, 20);
      const hi = head.death >= 0 ? head.death : LAST;
      if (lo <= hi) {
        const day = rng.int(Math.max(lo, hi - 25 * 365), hi);
        events.push({
          type: 'vital_event',
          event_type: 'divorce',
          registration_number: this.nextSequence('DVN', yearOf(day)),
          event_date: fmt(day),
          subject: { type: 'UIN', value: head.uin },
          place: `${ward.districtName} Law Courts`,
          area_code: ward.code,
          registration_date: fmt(Math.min(LAST, day + rng.int(0, 30))),
        });
      }
    }
    return events;
  }
}

/**
 * Yields records in import order: areas (parents before children), programmes, then households
 * (with nested members), each household followed at once by its own vital events. Lazy: one
 * household at a time is held in memory.
 */
export function* generateRegistry(options: GenerateOptions): Generator<ImportRecord, GenerateSummary> {
  const households = Math.floor(options.households);
  if (!Number.isFinite(households) || households < 0) throw new RangeError('households must be a non-negative number');
  const gen = new RegistryGenerator(String(options.seed));
  const summary: GenerateSummary = { areas: 0, programmes: 0, households: 0, individuals: 0, vitalEvents: 0 };
  for (const area of gen.areas) {
    summary.areas++;
    yield { ...area };
  }
  for (const programme of PROGRAMMES) {
    summary.programmes++;
    yield { ...programme };
  }
  for (let i = 0; i < households; i++) {
    const out = gen.household();
    summary.households++;
    summary.individuals += out.individuals;
    yield out.record;
    for (const event of out.events) {
      summary.vitalEvents++;
      yield event;
    }
  }
  return summary;
}

/**
 * Writes the records as NDJSON (one JSON.stringify per line) to a file path and returns the
 * summary. Lines are batched into ~256 KiB writes, and the generator waits while the stream drains.
 */
export async function writeNdjson(path: string, options: GenerateOptions): Promise<GenerateSummary> {
  const stream = createWriteStream(path, { encoding: 'utf8' });
  const failed: { error?: Error } = {};
  stream.on('error', (error) => {
    failed.error ??= error;
  });
  const waitForDrain = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('error', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('error', done);
      stream.on('close', done);
    });

  try {
    const records = generateRegistry(options);
    let chunk = '';
    for (;;) {
      const step = records.next();
      if (step.done) {
        if (chunk) stream.write(chunk);
        stream.end();
        await finished(stream);
        if (failed.error) throw failed.error;
        return step.value;
      }
      chunk += JSON.stringify(step.value) + '\n';
      if (chunk.length >= 262_144) {
        if (failed.error) throw failed.error;
        const ok = stream.write(chunk);
        chunk = '';
        if (!ok) await waitForDrain();
      }
    }
  } catch (error) {
    stream.destroy();
    throw failed.error ?? error;
  }
}
