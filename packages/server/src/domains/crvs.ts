/**
 * CRVS record type `Person` (dci-brief §7.3; [S] `extensions/crvs/v1/data/CRVSPerson.jsonld`):
 * the core `Person` plus what the person's vital events tell, under the `CRVS_Person` names:
 * `birth_place` and the parents' identifiers from their live birth, `death_place` from their death,
 * `marriage_date` / `divorce_date` from the marriages and divorces they are subject or partner of.
 */
import { compact, toPerson, urn, type DciRecord, type IdentifierRow, type PersonRow } from './records.js';

/** A vital event of the person: as its subject, or as the partner of a marriage or divorce. */
export interface VitalEventRow {
  event_type: string;
  role: 'subject' | 'partner';
  event_date: string;
  place: string | null;
  area_name: string | null;
  parent1: IdentifierRow | null;
  parent2: IdentifierRow | null;
}

function place(event: VitalEventRow | undefined): DciRecord | undefined {
  if (!event || (!event.place && !event.area_name)) return undefined;
  return compact({
    '@type': 'Place',
    name: event.place ?? event.area_name,
    contained_in_place: event.place && event.area_name ? { '@type': 'Place', name: event.area_name } : undefined,
  });
}

const identifier = (row: IdentifierRow | null | undefined) =>
  row ? { identifier_type: row.id_type, identifier_value: row.id_value } : undefined;

/** A registry individual as a CRVS `Person`; `events` in date order. */
export function toCrvsPerson(
  row: PersonRow,
  ids: readonly IdentifierRow[],
  events: readonly VitalEventRow[],
): DciRecord {
  const own = (type: string) => events.find((e) => e.event_type === type && e.role === 'subject');
  const dates = (type: string) => [...new Set(events.filter((e) => e.event_type === type).map((e) => e.event_date))];
  const birth = own('live_birth');
  const death = own('death');
  const person = toPerson(row, ids);
  return compact({
    '@id': urn(row.id),
    '@type': 'Person',
    identifier: person.identifier,
    name: person.name,
    sex: person.sex,
    birth_date: row.birth_date ?? birth?.event_date,
    birth_place: place(birth),
    death_date: row.death_date ?? death?.event_date,
    death_place: place(death),
    marital_status: row.marital_status,
    marriage_date: dates('marriage'),
    divorce_date: dates('divorce'),
    parent1_identifier: identifier(birth?.parent1),
    parent2_identifier: identifier(birth?.parent2),
    address: person.address,
    phone_number: person.phone_number,
    email: person.email,
    registration_date: person.registration_date,
    last_updated: person.last_updated,
  });
}
