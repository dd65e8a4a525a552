/**
 * Reading registry records in their DCI shape, in as few round trips as the hot path of sync
 * search allows: a page of people in ONE query (identifiers, area code and the record type's
 * extras as JSON from correlated subselects), a page of households in two (the households with
 * their identifiers and member ids, then their people). The SQL is the same on PGlite and
 * PostgreSQL; text sorts in the C collation so that both order alike.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Domain } from '../config.js';
import { prepared } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import { toCrvsPerson, type VitalEventRow } from '../domains/crvs.js';
import { toDisabledPerson, type DisabilityRow, type ProgrammeRow } from '../domains/dr.js';
import { toFarmer, type FarmRow } from '../domains/fr.js';
import { BENEFITS_SHOWN, toBeneficiary, toProgrammeEnrollment, type EnrollmentRow } from '../domains/ibr.js';
import { toMember, type DciRecord, type IdentifierRow, type PersonRow } from '../domains/records.js';
import { toGroup, type GroupRow } from '../domains/sr.js';
import { identifierHolder, type IdentifierHolding } from '../search/execute.js';

export type RecordKind = 'individual' | 'household';

export interface LoadRequest {
  /** The registry searched; an IBR `Group` carries its enrollments. */
  domain?: Domain;
  /** The record type the search resolved (`reg_record_type`): `Member`, `Person`, `Beneficiary`… */
  recordType: string;
  recordKind: RecordKind;
  ids: readonly string[];
}

/** How a person is shaped: by the record type the search resolved (contract §7). */
type PersonShape = 'member' | 'crvs' | 'beneficiary' | 'disabled' | 'farmer';

const PERSON_SHAPES: Readonly<Record<string, PersonShape>> = {
  Member: 'member',
  Person: 'crvs',
  Beneficiary: 'beneficiary',
  DisabledPerson: 'disabled',
  Farmer: 'farmer',
};

type Sql = RawBuilder<unknown>;

/** The identifiers of an entity, as `[{id_type, id_value}]` (null when none). */
const identifiersOf = (entity: Sql) =>
  sql`(select json_agg(json_build_object('id_type', x.id_type, 'id_value', x.id_value) order by x.id_type collate "C", x.id_value collate "C") from identifier x where x.entity_id = ${entity})`;

/** One identifier of a person (a UIN when they have one), for a parent's reference. */
const oneIdentifierOf = (entity: Sql) =>
  sql`(select json_build_object('id_type', x.id_type, 'id_value', x.id_value) from identifier x where x.entity_id = ${entity} order by x.id_type <> 'UIN', x.id_type collate "C", x.id_value collate "C" limit 1)`;

/** The enrollments of a beneficiary (person or household), each with its programme and latest benefits. */
const enrollmentsOf = (beneficiary: Sql) =>
  sql`(select json_agg(json_build_object('programme_code', p.code, 'programme_name', p.name, 'description', p.description, 'institution', p.institution, 'programme_type', p.programme_type, 'status', e.status, 'enrollment_date', e.enrollment_date, 'status_change_date', e.status_change_date, 'benefits', (select json_agg(b order by b.benefit_date desc, b.benefit_type) from (select bb.benefit_type, bb.benefit_date, bb.amount, bb.currency, bb.quantity, bb.description from benefit bb where bb.enrollment_id = e.id order by bb.benefit_date desc, bb.benefit_type limit ${sql.lit(BENEFITS_SHOWN)}) b)) order by e.enrollment_date nulls last, p.code collate "C") from enrollment e join programme p on p.id = e.programme_id where e.beneficiary_id = ${beneficiary})`;

const I_ID = sql.raw('i.id');
const H_ID = sql.raw('h.id');

/** Per person shape: the extra columns of the one query. */
const EXTRAS: Readonly<Record<PersonShape, readonly Sql[]>> = {
  member: [],
  crvs: [
    sql`(select json_agg(json_build_object('event_type', v.event_type, 'role', 'subject', 'event_date', v.event_date, 'place', v.place, 'area_name', va.name, 'parent1', case when v.event_type = 'live_birth' then ${oneIdentifierOf(sql.raw('v.parent1_id'))} end, 'parent2', case when v.event_type = 'live_birth' then ${oneIdentifierOf(sql.raw('v.parent2_id'))} end) order by v.event_date, v.registration_number collate "C") from vital_event v left join area va on va.id = v.area_id where v.subject_id = i.id) as events`,
    sql`(select json_agg(json_build_object('event_type', pe.event_type, 'role', 'partner', 'event_date', pe.event_date) order by pe.event_date, pe.registration_number collate "C") from partner_event pe where pe.partner_id = i.id) as partner_events`,
  ],
  beneficiary: [sql`${enrollmentsOf(I_ID)} as enrollments`],
  disabled: [
    sql`(select json_agg(json_build_object('disability_type', d.disability_type, 'functional_severity', d.functional_severity, 'status', d.status, 'support_level', d.support_level, 'cause', d.cause, 'age_of_onset', d.age_of_onset, 'assessed_on', d.assessed_on) order by d.functional_severity desc nulls last, d.disability_type collate "C") from disability d where d.individual_id = i.id) as disabilities`,
    sql`(select json_agg(json_build_object('programme_code', p.code, 'programme_name', p.name) order by e.enrollment_date nulls last, p.code collate "C") from enrollment e join programme p on p.id = e.programme_id where e.beneficiary_id = i.id) as programmes`,
  ],
  farmer: [
    sql`(select json_agg(json_build_object('id', f.id, 'identifiers', ${identifiersOf(sql.raw('f.id'))}, 'farm_type', f.farm_type, 'land_size', f.land_size, 'land_tenure', f.land_tenure, 'measurement_unit', f.measurement_unit, 'crop_types', f.crop_types, 'irrigation_type', f.irrigation_type, 'livestock', f.livestock, 'area_name', fa.name, 'registration_date', f.registration_date, 'last_updated', to_char(f.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by f.id) from farm f left join area fa on fa.id = f.area_id where f.farmer_id = i.id) as farms`,
  ],
};

interface LoadedPerson extends PersonRow {
  identifiers: IdentifierRow[] | null;
  events?: VitalEventRow[] | null;
  partner_events?: VitalEventRow[] | null;
  enrollments?: EnrollmentRow[] | null;
  disabilities?: DisabilityRow[] | null;
  programmes?: ProgrammeRow[] | null;
  farms?: FarmRow[] | null;
}

interface LoadedGroup extends GroupRow {
  identifiers: IdentifierRow[] | null;
  member_ids: string[] | null;
  enrollments?: EnrollmentRow[] | null;
}

function shapePerson(shape: PersonShape, row: LoadedPerson): DciRecord {
  const ids = row.identifiers ?? [];
  switch (shape) {
    case 'member':
      return toMember(row, ids);
    case 'crvs':
      return toCrvsPerson(row, ids, [...(row.events ?? []), ...(row.partner_events ?? [])]);
    case 'beneficiary':
      return toBeneficiary(row, ids, row.enrollments ?? []);
    case 'disabled':
      return toDisabledPerson(row, ids, row.disabilities ?? [], row.programmes ?? []);
    case 'farmer':
      return toFarmer(row, ids, row.farms ?? []);
  }
}

/** The found rows keyed by id, in the order of `ids`. */
function inOrder<T>(ids: readonly string[], found: Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const id of ids) {
    const value = found.get(id);
    if (value !== undefined) out.set(id, value);
  }
  return out;
}

/** The person columns of the one query of a shape (alias `i`, its area `a`). */
const personColumns = (shape: PersonShape) =>
  sql`i.id, i.given_name, i.surname, i.second_name, i.maiden_name, i.name_prefix, i.name_suffix, i.sex, i.birth_date, i.death_date, i.marital_status, i.phones, i.emails, i.address, a.code as area_code, i.registration_date, i.is_disabled, i.occupation, i.education_level, i.employment_status, i.language_code, i.income_level, i.updated_at, ${identifiersOf(I_ID)} as identifiers${sql.join(
    EXTRAS[shape].map((e) => sql`, ${e}`),
    sql``,
  )}`;

/** A CRVS person's marriages and divorces as a partner, read once for all of `ids` (a uuid[]; vital_event_partner_idx). */
const partnerEventsOf = (shape: PersonShape, ids: Sql) =>
  shape === 'crvs'
    ? sql`partner_event as materialized (select v.partner_id, v.event_type, v.event_date, v.registration_number from vital_event v where v.partner_id = any(${ids}) and v.event_type in ('marriage', 'divorce'))`
    : undefined;

export class RegistryReader {
  constructor(private readonly db: Kysely<DB>) {}

  /** People in their DCI shape, keyed by id: ONE query. */
  async people(ids: readonly string[], shape: PersonShape = 'member'): Promise<Map<string, DciRecord>> {
    if (ids.length === 0) return new Map();
    // One statement text for any number of ids: it is prepared once per connection.
    const list = sql`${[...ids]}::uuid[]`;
    const partnerEvents = partnerEventsOf(shape, list);
    const { rows } =
      await sql<LoadedPerson>`${prepared}${partnerEvents ? sql`with ${partnerEvents} ` : sql``}select ${personColumns(shape)} from individual i left join area a on a.id = i.area_id where i.id = any(${list})`.execute(
        this.db,
      );
    return inOrder(ids, new Map(rows.map((row) => [row.id, shapePerson(shape, row)])));
  }

  /**
   * Who holds an identifier and, given a record type and when it is a person, their record in
   * that type's shape: ONE query (the identifier lookup of an idtype-value search and the record
   * it answers with). Null when nobody holds it; no `record` when the holder is not a person.
   */
  async holderOf(idType: string, value: string, recordType?: string): Promise<IdentifierHolding | null> {
    if (recordType === undefined) return identifierHolder(this.db, idType, value);
    const shape = PERSON_SHAPES[recordType] ?? 'member';
    const holderIds = sql`array(select entity_id from holder where entity_type = 'individual')`;
    const partnerEvents = partnerEventsOf(shape, holderIds);
    const { rows } = await sql<
      LoadedPerson & { holder_type: string; holder_id: string }
    >`${prepared}with holder as (select entity_type, entity_id from identifier where id_type = ${idType}::text and id_value = ${value}::text)${partnerEvents ? sql`, ${partnerEvents}` : sql``} select holder.entity_type as holder_type, holder.entity_id as holder_id, ${personColumns(shape)} from holder left join individual i on holder.entity_type = 'individual' and i.id = holder.entity_id left join area a on a.id = i.area_id`.execute(
      this.db,
    );
    const row = rows[0];
    if (!row) return null;
    const holder = { entity_type: row.holder_type, entity_id: row.holder_id };
    return row.id ? { ...holder, record: shapePerson(shape, row) } : holder;
  }

  /** SR `Member`s, keyed by id. */
  async members(ids: readonly string[]): Promise<Map<string, DciRecord>> {
    return this.people(ids, 'member');
  }

  /**
   * Households as `Group`s, keyed by id: two queries (the households with their identifiers and
   * member ids, the head first; then every member and head at once). With `enrollments`, each
   * carries its own programme enrollments as `programme_identifier` (IBR).
   */
  async groups(ids: readonly string[], options: { enrollments?: boolean } = {}): Promise<Map<string, DciRecord>> {
    if (ids.length === 0) return new Map();
    const list = sql`${[...ids]}::uuid[]`;
    const enrollments = options.enrollments ? sql`, ${enrollmentsOf(H_ID)} as enrollments` : sql``;
    const { rows } =
      await sql<LoadedGroup>`${prepared}select h.id, h.group_type, h.head_id, h.size, h.poverty_score, h.poverty_score_type, h.address, h.registration_date, h.updated_at, a.code as area_code, ${identifiersOf(H_ID)} as identifiers, (select json_agg(m.individual_id order by m.individual_id is distinct from h.head_id, m.individual_id) from membership m where m.household_id = h.id) as member_ids${enrollments} from household h left join area a on a.id = h.area_id where h.id = any(${list})`.execute(
        this.db,
      );
    const people = new Set<string>();
    for (const row of rows) {
      for (const id of row.member_ids ?? []) people.add(id);
      if (row.head_id) people.add(row.head_id);
    }
    const members = await this.members([...people]);
    const found = new Map<string, DciRecord>();
    for (const row of rows) {
      const memberList = (row.member_ids ?? []).flatMap((id): DciRecord[] => {
        const member = members.get(id);
        return member ? [member] : [];
      });
      const head = row.head_id ? members.get(row.head_id) : undefined;
      const more = row.enrollments ? { programme_identifier: row.enrollments.map(toProgrammeEnrollment) } : {};
      found.set(row.id, toGroup(row, row.identifiers ?? [], head, memberList, more));
    }
    return inOrder(ids, found);
  }

  async group(id: string): Promise<DciRecord | undefined> {
    return (await this.groups([id])).get(id);
  }

  /**
   * Records in their DCI shape, keyed by id in the order of `ids`: people in the shape of the
   * record type the search resolved (`Member`, CRVS `Person`, IBR `Beneficiary`, DR
   * `DisabledPerson`, FR `Farmer`), households as `Group`.
   */
  async load(request: LoadRequest): Promise<Map<string, DciRecord>> {
    if (request.recordKind === 'household') return this.groups(request.ids, { enrollments: request.domain === 'ibr' });
    return this.people(request.ids, PERSON_SHAPES[request.recordType] ?? 'member');
  }
}
