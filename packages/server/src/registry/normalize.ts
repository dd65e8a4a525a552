/**
 * Validation and normalisation of import records: every value is checked and put in its stored
 * form before anything touches the database, so a bad row is reported with a reason and never
 * half-written. `undefined` = not given (left as stored on update); `null` = cleared.
 */
import type { Address, Livestock, MaritalStatus, Sex } from '../db/schema.js';
import type {
  BenefitInput,
  ConsentInput,
  DisabilityInput,
  EnrollmentInput,
  FarmInput,
  IdentifierRef,
  ImportRecord,
  IndividualInput,
  RecordType,
} from './records.js';
import { RECORD_TYPES } from './records.js';

export class RowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowError';
  }
}

type Obj = Record<string, unknown>;

export type Opt<T> = T | null | undefined;

export interface IndividualFields {
  given_name: Opt<string>;
  surname: Opt<string>;
  second_name: Opt<string>;
  maiden_name: Opt<string>;
  name_prefix: Opt<string>;
  name_suffix: Opt<string>;
  sex: Opt<Sex>;
  birth_date: Opt<string>;
  death_date: Opt<string>;
  marital_status: Opt<MaritalStatus>;
  phones: string[] | undefined;
  emails: string[] | undefined;
  address: Opt<Address>;
  area_code: Opt<string>;
  registration_date: Opt<string>;
  occupation: Opt<string>;
  education_level: Opt<string>;
  employment_status: Opt<string>;
  language_code: Opt<string>;
  income_level: Opt<string>;
  extra: Obj | undefined;
}

export interface CleanBenefit {
  benefit_type: string;
  benefit_date: string;
  amount: Opt<number>;
  currency: Opt<string>;
  quantity: Opt<number>;
  description: Opt<string>;
}

export interface CleanEnrollment {
  programme_code: string;
  status: string | undefined;
  enrollment_date: Opt<string>;
  status_change_date: Opt<string>;
  benefits: CleanBenefit[];
}

export interface CleanDisability {
  disability_type: string;
  functional_severity: Opt<number>;
  status: string | undefined;
  support_level: Opt<number>;
  cause: Opt<string>;
  age_of_onset: Opt<number>;
  assessed_on: Opt<string>;
}

export interface CleanFarm {
  identifiers: IdentifierRef[];
  farm_type: Opt<string>;
  land_size: Opt<number>;
  land_tenure: Opt<string>;
  measurement_unit: string | undefined;
  crop_types: string[] | undefined;
  irrigation_type: Opt<string>;
  livestock: Livestock[] | undefined;
  area_code: Opt<string>;
  registration_date: Opt<string>;
}

export interface CleanConsent {
  sender_id: string;
  purpose: string;
  given_at: string;
  expires_at: Opt<string>;
  revoked_at: Opt<string>;
}

export interface CleanPerson {
  identifiers: IdentifierRef[];
  fields: IndividualFields;
  relationship: string | undefined;
  disabilities: CleanDisability[];
  enrollments: CleanEnrollment[];
  farms: CleanFarm[];
  consents: CleanConsent[];
}

export type CleanRecord =
  | { type: 'area'; code: string; name: string; level: number | undefined; parent_code: Opt<string> }
  | {
      type: 'programme';
      code: string;
      name: string;
      description: Opt<string>;
      institution: Opt<string>;
      programme_type: Opt<string>;
      benefit_type: Opt<string>;
    }
  | { type: 'individual'; person: CleanPerson; household: IdentifierRef | undefined }
  | {
      type: 'household';
      identifiers: IdentifierRef[];
      group_type: string | undefined;
      area_code: Opt<string>;
      address: Opt<Address>;
      poverty_score: Opt<number>;
      poverty_score_type: Opt<string>;
      registration_date: Opt<string>;
      extra: Obj | undefined;
      members: CleanPerson[];
      enrollments: CleanEnrollment[];
    }
  | {
      type: 'vital_event';
      event_type: string;
      registration_number: string;
      event_date: string;
      subject: Opt<IdentifierRef>;
      partner: Opt<IdentifierRef>;
      parent1: Opt<IdentifierRef>;
      parent2: Opt<IdentifierRef>;
      place: Opt<string>;
      area_code: Opt<string>;
      registration_date: Opt<string>;
    }
  | ({ type: 'enrollment'; beneficiary: IdentifierRef } & CleanEnrollment)
  | ({ type: 'disability'; person: IdentifierRef } & CleanDisability)
  | ({ type: 'farm'; farmer: IdentifierRef } & CleanFarm)
  | ({ type: 'consent'; person: IdentifierRef } & CleanConsent);

// ---------------------------------------------------------------------------------------------
// value coercion

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: Obj, key: string, max = 500): Opt<string> {
  const value = obj[key];
  if (value === undefined || value === null) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new RowError(`${key}: expected a string`);
  const text = value.trim();
  if (text.length > max) throw new RowError(`${key}: longer than ${max} characters`);
  return text === '' ? null : text;
}

function requiredStr(obj: Obj, key: string, max = 500): string {
  const value = str(obj, key, max);
  if (value === undefined || value === null) throw new RowError(`${key} is required`);
  return value;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function toDate(value: unknown, key: string): Opt<string> {
  if (value === undefined || value === null || value === '') return value === '' ? null : value;
  if (typeof value !== 'string') throw new RowError(`${key}: expected a date YYYY-MM-DD`);
  const m = DATE_RE.exec(value.trim());
  if (!m) throw new RowError(`${key}: "${value}" is not a date (YYYY-MM-DD)`);
  const [, y, mo, d] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) {
    throw new RowError(`${key}: "${value}" is not a valid date`);
  }
  if (Number(y) < 1850 || Number(y) > 2200) throw new RowError(`${key}: year ${y} is out of range`);
  return `${y}-${mo}-${d}`;
}

function date(obj: Obj, key: string): Opt<string> {
  return toDate(obj[key], key);
}

function timestamp(obj: Obj, key: string): Opt<string> {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return value === '' ? null : value;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new RowError(`${key}: ${JSON.stringify(value)} is not an ISO 8601 timestamp`);
  }
  return new Date(value).toISOString();
}

function num(obj: Obj, key: string, range?: [number, number]): Opt<number> {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return value === '' ? null : value;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(n)) throw new RowError(`${key}: ${JSON.stringify(value)} is not a number`);
  if (range && (n < range[0] || n > range[1])) throw new RowError(`${key}: ${n} is outside ${range[0]}–${range[1]}`);
  return n;
}

function int(obj: Obj, key: string, range?: [number, number]): Opt<number> {
  const n = num(obj, key, range);
  if (n !== undefined && n !== null && !Number.isInteger(n)) throw new RowError(`${key}: ${n} is not an integer`);
  return n;
}

function strList(obj: Obj, key: string): string[] | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return value === null ? [] : undefined;
  const items = typeof value === 'string' ? value.split('|') : value;
  if (!Array.isArray(items)) throw new RowError(`${key}: expected a list`);
  return items
    .map((item) => {
      if (typeof item !== 'string' && typeof item !== 'number')
        throw new RowError(`${key}: expected a list of strings`);
      return String(item).trim();
    })
    .filter((s) => s !== '');
}

function list(obj: Obj, key: string): Obj[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new RowError(`${key}: expected a list`);
  return value.map((item, i) => {
    if (!isObj(item)) throw new RowError(`${key}[${i}]: expected an object`);
    return item;
  });
}

function enumValue<T extends string>(obj: Obj, key: string, aliases: Record<string, T>): Opt<T> {
  const value = str(obj, key);
  if (value === undefined || value === null) return value;
  const mapped = aliases[value.toLowerCase()];
  if (!mapped)
    throw new RowError(`${key}: "${value}" is not one of ${[...new Set(Object.values(aliases))].join(', ')}`);
  return mapped;
}

const SEX: Record<string, Sex> = {
  male: 'male',
  m: 'male',
  female: 'female',
  f: 'female',
  other: 'other',
  o: 'other',
  unknown: 'unknown',
  u: 'unknown',
};

const MARITAL: Record<string, MaritalStatus> = {
  s: 'S',
  single: 'S',
  'never married': 'S',
  m: 'M',
  married: 'M',
  w: 'W',
  widow: 'W',
  widowed: 'W',
  widower: 'W',
  a: 'A',
  annulled: 'A',
  d: 'D',
  divorced: 'D',
  l: 'L',
  separated: 'L',
  'legally separated': 'L',
  u: 'U',
  unmarried: 'U',
};

export const RELATIONSHIPS = [
  'head',
  'spouse',
  'child',
  'parent',
  'sibling',
  'grandchild',
  'grandparent',
  'other_relative',
  'other',
] as const;
const RELATIONSHIP: Record<string, string> = {
  ...Object.fromEntries(RELATIONSHIPS.map((r) => [r, r])),
  self: 'head',
  relationship_head: 'head',
  sps: 'spouse',
  prmspous: 'spouse',
  primspous: 'spouse',
  wife: 'spouse',
  husband: 'spouse',
  son: 'child',
  dau: 'child',
  daughter: 'child',
  chld: 'child',
  prn: 'parent',
  mth: 'parent',
  fth: 'parent',
  mother: 'parent',
  father: 'parent',
  sib: 'sibling',
  brother: 'sibling',
  sister: 'sibling',
  gchild: 'grandchild',
  grprn: 'grandparent',
  'other relative': 'other_relative',
  relative: 'other_relative',
};

const ENROLLMENT_STATUS: Record<string, string> = {
  active: 'active',
  '1': 'active',
  deceased: 'deceased',
  '2': 'deceased',
  graduated: 'graduated',
  '3': 'graduated',
  suspended: 'suspended',
  '4': 'suspended',
};
const DISABILITY_STATUS: Record<string, string> = {
  approved: 'approved',
  '0': 'approved',
  pending: 'pending',
  '1': 'pending',
  expired: 'expired',
  '2': 'expired',
};
const BENEFIT_TYPE: Record<string, string> = {
  cash: 'cash',
  '1': 'cash',
  voucher: 'voucher',
  '2': 'voucher',
  in_kind: 'in_kind',
  'in-kind': 'in_kind',
  '3': 'in_kind',
  training: 'training',
  '4': 'training',
  work: 'work',
  work_opportunity: 'work',
  '5': 'work',
  insurance: 'insurance',
  '6': 'insurance',
};
const VITAL_EVENT: Record<string, string> = {
  live_birth: 'live_birth',
  birth: 'live_birth',
  livebirth: 'live_birth',
  death: 'death',
  fetal_death: 'fetal_death',
  marriage: 'marriage',
  divorce: 'divorce',
  adoption: 'adoption',
};
const GROUP_TYPE: Record<string, string> = {
  household: 'household',
  '2': 'household',
  family: 'family',
  '3': 'family',
  member: 'member',
  '1': 'member',
};

function identifierRef(value: unknown, key: string): IdentifierRef {
  if (typeof value === 'string') {
    const at = value.indexOf(':');
    if (at <= 0 || at === value.length - 1) throw new RowError(`${key}: expected TYPE:VALUE`);
    return { type: value.slice(0, at).trim(), value: value.slice(at + 1).trim() };
  }
  if (!isObj(value)) throw new RowError(`${key}: expected {type, value}`);
  const type = value.type ?? value.identifier_type;
  const val = value.value ?? value.identifier_value;
  if (typeof type !== 'string' || !type.trim()) throw new RowError(`${key}: identifier type is required`);
  if ((typeof val !== 'string' && typeof val !== 'number') || !String(val).trim()) {
    throw new RowError(`${key}: identifier value is required`);
  }
  if (type.length > 50 || String(val).length > 200) throw new RowError(`${key}: identifier too long`);
  return { type: type.trim(), value: String(val).trim() };
}

function optRef(obj: Obj, key: string): Opt<IdentifierRef> {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return value === '' ? null : value;
  return identifierRef(value, key);
}

function requiredRef(obj: Obj, key: string): IdentifierRef {
  const ref = optRef(obj, key);
  if (!ref) throw new RowError(`${key} is required`);
  return ref;
}

function identifiers(obj: Obj, required: boolean): IdentifierRef[] {
  const value = obj.identifiers;
  if (value === undefined || value === null) {
    if (required) throw new RowError('identifiers: at least one identifier is required');
    return [];
  }
  if (!Array.isArray(value)) throw new RowError('identifiers: expected a list of {type, value}');
  const refs = value.map((v, i) => identifierRef(v, `identifiers[${i}]`));
  if (required && refs.length === 0) throw new RowError('identifiers: at least one identifier is required');
  const seen = new Set<string>();
  for (const ref of refs) {
    const key = `${ref.type}\u0000${ref.value}`;
    if (seen.has(key)) throw new RowError(`identifiers: ${ref.type} ${ref.value} is listed twice`);
    seen.add(key);
  }
  return refs;
}

function address(obj: Obj, key: string): Opt<Address> {
  const value = obj[key];
  if (value === undefined || value === null) return value;
  if (!isObj(value)) throw new RowError(`${key}: expected an object`);
  const out: Record<string, unknown> = {};
  const aliases: Record<string, string> = { address_line1: 'address_line_1', address_line2: 'address_line_2' };
  for (const [k, v] of Object.entries(value)) {
    const name = aliases[k] ?? k;
    if (name === 'geo_location') {
      if (v === null || v === undefined) continue;
      if (!isObj(v)) throw new RowError(`${key}.geo_location: expected {latitude, longitude}`);
      const latitude = num(v, 'latitude', [-90, 90]);
      const longitude = num(v, 'longitude', [-180, 180]);
      if (typeof latitude !== 'number' || typeof longitude !== 'number') {
        throw new RowError(`${key}.geo_location: latitude and longitude are required`);
      }
      out.geo_location = { latitude, longitude };
    } else if (v !== undefined && v !== null && v !== '') {
      if (typeof v !== 'string' && typeof v !== 'number') throw new RowError(`${key}.${k}: expected a string`);
      out[name] = String(v);
    }
  }
  return out;
}

function extra(obj: Obj): Obj | undefined {
  const value = obj.extra;
  if (value === undefined || value === null) return undefined;
  if (!isObj(value)) throw new RowError('extra: expected an object');
  return value;
}

// ---------------------------------------------------------------------------------------------
// per type

function individualFields(obj: Obj): IndividualFields {
  const fields: IndividualFields = {
    given_name: str(obj, 'given_name', 200),
    surname: str(obj, 'surname', 200),
    second_name: str(obj, 'second_name', 200),
    maiden_name: str(obj, 'maiden_name', 200),
    name_prefix: str(obj, 'name_prefix', 50),
    name_suffix: str(obj, 'name_suffix', 50),
    sex: enumValue(obj, 'sex', SEX),
    birth_date: date(obj, 'birth_date'),
    death_date: date(obj, 'death_date'),
    marital_status: enumValue(obj, 'marital_status', MARITAL),
    phones: strList(obj, 'phones'),
    emails: strList(obj, 'emails'),
    address: address(obj, 'address'),
    area_code: str(obj, 'area_code', 100),
    registration_date: date(obj, 'registration_date'),
    occupation: str(obj, 'occupation', 200),
    education_level: str(obj, 'education_level', 100),
    employment_status: str(obj, 'employment_status', 100),
    language_code: str(obj, 'language_code', 20),
    income_level: str(obj, 'income_level', 100),
    extra: extra(obj),
  };
  if (fields.birth_date && fields.death_date && fields.death_date < fields.birth_date) {
    throw new RowError('death_date is before birth_date');
  }
  return fields;
}

function benefit(obj: Obj): CleanBenefit {
  const type = enumValue(obj, 'benefit_type', BENEFIT_TYPE);
  const when = date(obj, 'benefit_date');
  if (!type) throw new RowError('benefit_type is required');
  if (!when) throw new RowError('benefit_date is required');
  return {
    benefit_type: type,
    benefit_date: when,
    amount: num(obj, 'amount', [0, 1e12]),
    currency: str(obj, 'currency', 10),
    quantity: num(obj, 'quantity', [0, 1e12]),
    description: str(obj, 'description'),
  };
}

function enrollment(obj: Obj): CleanEnrollment {
  return {
    programme_code: requiredStr(obj, 'programme_code', 100),
    status: enumValue(obj, 'status', ENROLLMENT_STATUS) ?? undefined,
    enrollment_date: date(obj, 'enrollment_date'),
    status_change_date: date(obj, 'status_change_date'),
    benefits: list(obj, 'benefits').map(benefit),
  };
}

function disability(obj: Obj): CleanDisability {
  return {
    disability_type: requiredStr(obj, 'disability_type', 100).toLowerCase(),
    functional_severity: int(obj, 'functional_severity', [1, 4]),
    status: enumValue(obj, 'status', DISABILITY_STATUS) ?? undefined,
    support_level: int(obj, 'support_level', [1, 4]),
    cause: str(obj, 'cause'),
    age_of_onset: int(obj, 'age_of_onset', [0, 150]),
    assessed_on: date(obj, 'assessed_on'),
  };
}

function livestock(obj: Obj): Livestock[] | undefined {
  const value = obj.livestock;
  if (value === undefined || value === null) return value === null ? [] : undefined;
  const items =
    typeof value === 'string'
      ? value
          .split('|')
          .filter(Boolean)
          .map((pair) => {
            const [type, count] = pair.split(':');
            return { type, count };
          })
      : value;
  if (!Array.isArray(items)) throw new RowError('livestock: expected a list of {type, count}');
  return items.map((item, i) => {
    if (!isObj(item)) throw new RowError(`livestock[${i}]: expected {type, count}`);
    const type = requiredStr(item, 'type', 50).toLowerCase();
    const count = int(item, 'count', [0, 1e7]);
    if (count === undefined || count === null) throw new RowError(`livestock[${i}]: count is required`);
    return { type, count };
  });
}

function farm(obj: Obj): CleanFarm {
  return {
    identifiers: identifiers(obj, false),
    farm_type: str(obj, 'farm_type', 100),
    land_size: num(obj, 'land_size', [0, 1e7]),
    land_tenure: str(obj, 'land_tenure', 100),
    measurement_unit: str(obj, 'measurement_unit', 20) ?? undefined,
    crop_types: strList(obj, 'crop_types')?.map((c) => c.toLowerCase()),
    irrigation_type: str(obj, 'irrigation_type', 50)?.toLowerCase(),
    livestock: livestock(obj),
    area_code: str(obj, 'area_code', 100),
    registration_date: date(obj, 'registration_date'),
  };
}

function consent(obj: Obj): CleanConsent {
  const given = timestamp(obj, 'given_at');
  if (!given) throw new RowError('given_at is required');
  return {
    sender_id: requiredStr(obj, 'sender_id', 200),
    purpose: str(obj, 'purpose', 200) ?? 'any',
    given_at: given,
    expires_at: timestamp(obj, 'expires_at'),
    revoked_at: timestamp(obj, 'revoked_at'),
  };
}

function person(obj: Obj): CleanPerson {
  return {
    identifiers: identifiers(obj, true),
    fields: individualFields(obj),
    relationship: enumValue(obj, 'relationship', RELATIONSHIP) ?? undefined,
    disabilities: list(obj, 'disabilities').map(disability),
    enrollments: list(obj, 'enrollments').map(enrollment),
    farms: list(obj, 'farms').map(farm),
    consents: list(obj, 'consents').map(consent),
  };
}

function recordType(obj: Obj, defaultType: RecordType | undefined): RecordType {
  const type = obj.type ?? defaultType;
  if (typeof type !== 'string' || !(RECORD_TYPES as readonly string[]).includes(type)) {
    throw new RowError(
      type === undefined ? 'type is missing (give it per line or with --type)' : `unknown type ${JSON.stringify(type)}`,
    );
  }
  return type as RecordType;
}

/** Validates one import record and returns it in stored form; throws RowError with a reason. */
export function normalizeRecord(raw: unknown, defaultType?: RecordType): CleanRecord {
  if (!isObj(raw)) throw new RowError('expected a JSON object');
  const type = recordType(raw, defaultType);
  switch (type) {
    case 'area': {
      const level = int(raw, 'level', [0, 20]);
      return {
        type,
        code: requiredStr(raw, 'code', 100),
        name: requiredStr(raw, 'name', 200),
        level: level ?? undefined,
        parent_code: str(raw, 'parent_code', 100),
      };
    }
    case 'programme':
      return {
        type,
        code: requiredStr(raw, 'code', 100),
        name: requiredStr(raw, 'name', 200),
        description: str(raw, 'description', 2000),
        institution: str(raw, 'institution'),
        programme_type: str(raw, 'programme_type', 100),
        benefit_type: str(raw, 'benefit_type', 100),
      };
    case 'individual': {
      const household = optRef(raw, 'household') ?? undefined;
      const p = person(raw);
      if (p.relationship && !household) throw new RowError('relationship is given without household');
      return { type, person: p, household };
    }
    case 'household': {
      const members = list(raw, 'members').map((m, i) => {
        try {
          return person(m);
        } catch (error) {
          throw new RowError(`members[${i}].${(error as Error).message}`);
        }
      });
      if (members.filter((m) => m.relationship === 'head').length > 1) {
        throw new RowError('members: more than one head');
      }
      const seen = new Set<string>();
      for (const m of members) {
        for (const id of m.identifiers) {
          const key = `${id.type}\u0000${id.value}`;
          if (seen.has(key)) throw new RowError(`members: identifier ${id.type} ${id.value} is used by two members`);
          seen.add(key);
        }
      }
      return {
        type,
        identifiers: identifiers(raw, true),
        group_type: enumValue(raw, 'group_type', GROUP_TYPE) ?? undefined,
        area_code: str(raw, 'area_code', 100),
        address: address(raw, 'address'),
        poverty_score: num(raw, 'poverty_score', [0, 100]),
        poverty_score_type: str(raw, 'poverty_score_type', 50),
        registration_date: date(raw, 'registration_date'),
        extra: extra(raw),
        members,
        enrollments: list(raw, 'enrollments').map(enrollment),
      };
    }
    case 'vital_event': {
      const eventType = enumValue(raw, 'event_type', VITAL_EVENT);
      const when = date(raw, 'event_date');
      if (!eventType) throw new RowError('event_type is required');
      if (!when) throw new RowError('event_date is required');
      return {
        type,
        event_type: eventType,
        registration_number: requiredStr(raw, 'registration_number', 100),
        event_date: when,
        subject: optRef(raw, 'subject'),
        partner: optRef(raw, 'partner'),
        parent1: optRef(raw, 'parent1'),
        parent2: optRef(raw, 'parent2'),
        place: str(raw, 'place'),
        area_code: str(raw, 'area_code', 100),
        registration_date: date(raw, 'registration_date'),
      };
    }
    case 'enrollment':
      return { type, beneficiary: requiredRef(raw, 'beneficiary'), ...enrollment(raw) };
    case 'disability':
      return { type, person: requiredRef(raw, 'person'), ...disability(raw) };
    case 'farm':
      return { type, farmer: requiredRef(raw, 'farmer'), ...farm(raw) };
    case 'consent':
      return { type, person: requiredRef(raw, 'person'), ...consent(raw) };
  }
}

export type { BenefitInput, ConsentInput, DisabilityInput, EnrollmentInput, FarmInput, ImportRecord, IndividualInput };
