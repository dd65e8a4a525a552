/**
 * Registry rows → DCI records in the spec's JSON-LD shape (dci-brief §7): a person is a
 * `Member` whose `demographic_info` is the `Person`; a household is a `Group`. Property names are
 * the [S] schema names; `@id` is the record's stable `urn:uuid:` id. The core building blocks are
 * here; each domain's record type is in its own module (`sr.ts` `Group`, `crvs.ts` `Person`,
 * `ibr.ts` `Beneficiary`, `dr.ts` `DisabledPerson`, `fr.ts` `Farmer`), and the sender field
 * allow-list in `fields.ts`.
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

export { cutFields, FIELD_PATHS } from './fields.js';

export const urn = (id: string) => `urn:uuid:${id}`;

/** The object without its null, undefined, empty-list and empty-object values. */
export function compact<T extends Record<string, unknown>>(obj: T): Partial<T> {
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
