/**
 * The sender field allow-list (`--fields`, contract §7 names): where each name a sender may be
 * allowed appears in each record type. A record cut to a field list keeps `@id`, `@type` and the
 * paths of the listed names only; a path that runs through a list applies to every item of it.
 */
import type { DciRecord } from './records.js';

/** Paths of a person-level record: the SR `Member` (`demographic_info`) and the CRVS `Person`. */
const PERSON_PATHS: Record<string, readonly string[]> = {
  identifier: ['member_identifier', 'demographic_info.identifier', 'identifier', 'group_identifier'],
  given_name: ['demographic_info.name.given_name', 'name.given_name'],
  surname: ['demographic_info.name.surname', 'name.surname', 'demographic_info.name.maiden_name', 'name.maiden_name'],
  name: ['demographic_info.name', 'name'],
  sex: ['demographic_info.sex', 'sex'],
  birth_date: ['demographic_info.birth_date', 'birth_date'],
  death_date: ['demographic_info.death_date', 'death_date'],
  marital_status: ['marital_status'],
  address: ['demographic_info.address', 'address'],
  area: ['demographic_info.address', 'address'],
  phone_number: ['demographic_info.phone_number', 'phone_number'],
  email: ['demographic_info.email', 'email'],
  registration_date: ['registration_date', 'demographic_info.registration_date'],
  is_disabled: ['is_disabled'],
  occupation: ['occupation'],
  education_level: ['education_level'],
  employment_status: ['employment_status'],
  language_code: ['language_code'],
  income_level: ['income_level'],
  last_updated: ['last_updated', 'demographic_info.last_updated'],
};

/** Where the domain records nest the person's `Member`: IBR, DR, FR; and a `Group`'s members. */
const MEMBER_WRAPPERS = ['member', 'personal_details', 'farmer_personal_details'] as const;
const GROUP_MEMBER_WRAPPERS = ['group_head_info', 'member_list'] as const;

const PROGRAMME_FIELDS = [
  'programme_identifier',
  'programme_name',
  'programme_description',
  'implementing_institution',
  'programme_type',
];

/** Paths of the domain record types (and the `Group`), per field name. */
const DOMAIN_PATHS: Record<string, readonly string[]> = {
  // Group
  group_type: ['group_type'],
  group_size: ['group_size'],
  poverty_score: ['poverty_score'],
  poverty_score_type: ['poverty_score_type'],
  // CRVS Person
  place_of_birth: ['birth_place'],
  death_place: ['death_place'],
  marriage_date: ['marriage_date'],
  divorce_date: ['divorce_date'],
  event_type: ['marriage_date', 'divorce_date'],
  parent1_identifier: ['parent1_identifier'],
  parent2_identifier: ['parent2_identifier'],
  parents: ['parent1_identifier', 'parent2_identifier'],
  // IBR Beneficiary (and an IBR Group's enrollments); DR programme enrolments
  assistance_unit: ['assistance_unit'],
  programme: [
    ...PROGRAMME_FIELDS.map((f) => `programme_identifier.${f}`),
    ...PROGRAMME_FIELDS.map((f) => `programs_enrolments.${f}`),
  ],
  enrollment_status: ['programme_identifier.enrollment_status'],
  enrollment_date: ['programme_identifier.enrollment_date'],
  status_change_date: ['programme_identifier.status_change_date'],
  benefits: ['programme_identifier.benefits'],
  // DR DisabledPerson
  disability_type: [
    'disability_details.impairment_type',
    'personal_details.disability_info.disability_limitation_type',
  ],
  functional_severity: [
    'disability_details.functional_severity',
    'personal_details.disability_info.functional_severity',
  ],
  disability_status: ['disability_status', 'disability_details.disability_status'],
  support_level: ['disability_status_level', 'disability_details.disability_status_level'],
  disability_details: [
    'disability_status',
    'disability_status_level',
    'disability_details',
    'personal_details.disability_info',
  ],
  // FR Farmer
  farm_size: ['farm_details.land_size', 'farm_details.measurment'],
  crop_type: ['farm_details.farming_activities.crop_production'],
  irrigation_type: ['farm_details.irrigation_type'],
  livestock: ['farm_details.farming_activities.animal_production'],
  farm_type: ['farm_type', 'farm_details.farm_type'],
  land_tenure: ['farm_details.land_tenure'],
  farm_details: ['farm_type', 'farm_details'],
};

/** Further person-level paths of the domain records (a farm's identifiers, area and dates). */
const EXTRA_PERSON_PATHS: Record<string, readonly string[]> = {
  identifier: ['farm_details.identifier'],
  area: ['farm_details.location'],
  registration_date: ['farm_details.registration_date'],
  last_updated: ['farm_details.last_updated'],
};

/** Accepted spellings of the names above (the vocabulary's aliases). */
const ALIASES: Record<string, string> = {
  gender: 'sex',
  date_of_birth: 'birth_date',
  location: 'area',
  birth_place: 'place_of_birth',
  land_size: 'farm_size',
  enrolment_status: 'enrollment_status',
  enrolment_date: 'enrollment_date',
  severity: 'functional_severity',
  disability_status_level: 'support_level',
  impairment_type: 'disability_type',
};

function build(): Record<string, readonly string[]> {
  const out: Record<string, string[]> = {};
  const add = (name: string, paths: readonly string[]) => {
    const list = (out[name] ??= []);
    for (const p of paths) if (!list.includes(p)) list.push(p);
  };
  for (const [name, paths] of Object.entries(PERSON_PATHS)) {
    add(name, paths);
    for (const wrapper of [...MEMBER_WRAPPERS, ...GROUP_MEMBER_WRAPPERS])
      add(
        name,
        paths.map((p) => `${wrapper}.${p}`),
      );
  }
  for (const [name, paths] of Object.entries(DOMAIN_PATHS)) add(name, paths);
  for (const [name, paths] of Object.entries(EXTRA_PERSON_PATHS)) add(name, paths);
  for (const [alias, name] of Object.entries(ALIASES)) add(alias, out[name] ?? []);
  return out;
}

/**
 * Where each field name a sender may be allowed (contract §7 vocabulary) appears in a record.
 * A record cut to a field list keeps `@id`, `@type` and the paths of the listed names only.
 */
export const FIELD_PATHS: Readonly<Record<string, readonly string[]>> = build();

/** Kept whatever the list: the record's and its person's `@id` and `@type`. */
const ALWAYS = [
  '@id',
  '@type',
  'demographic_info.@id',
  'demographic_info.@type',
  ...MEMBER_WRAPPERS.flatMap((w) => [
    `${w}.@id`,
    `${w}.@type`,
    `${w}.demographic_info.@id`,
    `${w}.demographic_info.@type`,
  ]),
].map((p) => p.split('.'));

const SPLIT_PATHS = new Map(Object.entries(FIELD_PATHS).map(([name, paths]) => [name, paths.map((p) => p.split('.'))]));

function isObject(value: unknown): value is DciRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `@id` and `@type` of an object on a kept path. */
function idsOf(value: unknown): DciRecord {
  if (!isObject(value)) return {};
  const out: DciRecord = {};
  if (value['@id'] !== undefined) out['@id'] = value['@id'];
  if (value['@type'] !== undefined) out['@type'] = value['@type'];
  return out;
}

/** The part of `value` on the path (a list: the part of each item), or undefined. */
function pick(value: unknown, parts: readonly string[], at: number): unknown {
  if (at === parts.length) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => pick(item, parts, at));
    return items.some((i) => i !== undefined) ? items.map((i, k) => i ?? idsOf(value[k])) : undefined;
  }
  if (!isObject(value)) return undefined;
  const key = parts[at]!;
  const child = pick(value[key], parts, at + 1);
  return child === undefined ? undefined : { ...idsOf(value), [key]: child };
}

/** Two picks of the same record, merged (never modifies either). */
function merge(a: unknown, b: unknown): unknown {
  if (a === undefined) return b;
  if (Array.isArray(a) && Array.isArray(b)) return a.map((item, k) => merge(item, b[k]));
  if (isObject(a) && isObject(b)) {
    const out: DciRecord = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = merge(out[key], value);
    return out;
  }
  return b;
}

/** Cuts a record to the allowed fields (null = every field). Unknown names allow nothing. */
export function cutFields(record: DciRecord, allowed: readonly string[] | null): DciRecord {
  if (allowed === null) return record;
  let out: DciRecord = {};
  const paths = [...ALWAYS, ...allowed.flatMap((name) => SPLIT_PATHS.get(name) ?? [])];
  for (const path of paths) {
    const part = pick(record, path, 0);
    if (part !== undefined) out = merge(out, part) as DciRecord;
  }
  return out;
}
