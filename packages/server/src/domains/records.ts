/**
 * Registry rows → DCI records in the spec's JSON-LD shape (dci-brief §7): a person is a
 * `Member` whose `demographic_info` is the `Person`; a household is a `Group`. Property names are
 * the [S] schema names; `@id` is the record's stable `urn:uuid:` id.
 */
import type { Address } from '../db/schema.js';

export interface IdentifierRow {
  id_type: string;
  id_value: string;
}

export interface PersonRow {
  id: string;
  given_name: string | null;
  surname: string | null;
  second_name: string | null;
  maiden_name: string | null;
  name_prefix: string | null;
  name_suffix: string | null;
  sex: string | null;
  birth_date: string | null;
  death_date: string | null;
  marital_status: string | null;
  phones: string[];
  emails: string[];
  address: Address | null;
  area_code?: string | null;
  registration_date: string | null;
  is_disabled: boolean;
  occupation: string | null;
  education_level: string | null;
  employment_status: string | null;
  language_code: string | null;
  income_level: string | null;
  updated_at: Date;
}

export type DciRecord = Record<string, unknown>;

const urn = (id: string) => `urn:uuid:${id}`;

function compact<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    out[key] = value;
  }
  return out as Partial<T>;
}

export function identifiers(rows: readonly IdentifierRow[]) {
  return rows.map((r) => ({ identifier_type: r.id_type, identifier_value: r.id_value }));
}

/** The core `Person` of a registry individual. */
export function toPerson(row: PersonRow, ids: readonly IdentifierRow[]): DciRecord {
  return compact({
    '@id': urn(row.id),
    '@type': 'Person',
    identifier: identifiers(ids),
    name: compact({
      given_name: row.given_name,
      surname: row.surname,
      second_name: row.second_name,
      maiden_name: row.maiden_name,
      prefix: row.name_prefix,
      suffix: row.name_suffix,
    }),
    sex: row.sex,
    birth_date: row.birth_date,
    death_date: row.death_date,
    address: row.address
      ? [compact({ ...row.address, sub_region_code: row.address.sub_region_code ?? row.area_code })]
      : undefined,
    phone_number: row.phones,
    email: row.emails,
    registration_date: row.registration_date,
    last_updated: row.updated_at.toISOString(),
  });
}

/** A registry individual as an SR `Member`. */
export function toMember(row: PersonRow, ids: readonly IdentifierRow[]): DciRecord {
  return compact({
    '@id': urn(row.id),
    '@type': 'Member',
    member_identifier: identifiers(ids),
    demographic_info: toPerson(row, ids),
    is_disabled: row.is_disabled,
    marital_status: row.marital_status,
    occupation: row.occupation,
    education_level: row.education_level,
    employment_status: row.employment_status,
    language_code: row.language_code,
    income_level: row.income_level,
    registration_date: row.registration_date,
    last_updated: row.updated_at.toISOString(),
  });
}

/**
 * Where each field name a sender may be allowed (contract §7 vocabulary) appears in a record.
 * A record cut to a field list keeps `@id`, `@type` and the paths of the listed names only.
 */
export const FIELD_PATHS: Record<string, readonly string[]> = {
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

const ALWAYS = ['@id', '@type', 'demographic_info.@id', 'demographic_info.@type'];

function getPath(obj: DciRecord, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as DciRecord)[part];
  }
  return cur;
}

function setPath(obj: DciRecord, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {};
    cur = cur[part] as DciRecord;
  }
  cur[parts.at(-1)!] = value;
}

/** Cuts a record to the allowed fields (null = every field). Unknown names allow nothing. */
export function cutFields(record: DciRecord, allowed: readonly string[] | null): DciRecord {
  if (allowed === null) return record;
  const out: DciRecord = {};
  const paths = [...ALWAYS, ...allowed.flatMap((name) => FIELD_PATHS[name] ?? [])];
  for (const path of paths) {
    const value = getPath(record, path);
    if (value !== undefined) setPath(out, path, value);
  }
  return out;
}
