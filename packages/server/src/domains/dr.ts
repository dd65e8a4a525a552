/**
 * DR record type `DisabledPerson` (dci-brief §7.5; [S] `extensions/dr/v1/data/{PWDPerson,
 * DisabilityDetails}.jsonld`, core `DisabilityInfo`): the person's `Member` as `personal_details`
 * (with `disability_info`: type and functional severity of each assessment), one
 * `disability_details` entry per assessment, the person's `disability_status` and
 * `disability_status_level` and their programme enrolments. Codes are the DCI ones.
 */
import { compact, toMember, urn, type DciRecord, type IdentifierRow, type PersonRow } from './records.js';

/** DisabilityStatusEnum. */
export const DISABILITY_STATUS_CODES: Readonly<Record<string, string>> = { approved: '0', pending: '1', expired: '2' };

/** Which assessment status speaks for the person: an approved one first, then pending, then expired. */
const STATUS_RANK = ['approved', 'pending', 'expired'];

export interface DisabilityRow {
  disability_type: string;
  functional_severity: number | null;
  status: string;
  support_level: number | null;
  cause: string | null;
  age_of_onset: number | null;
  assessed_on: string | null;
}

export interface ProgrammeRow {
  programme_code: string;
  programme_name: string;
}

/** DisabilityOnSet of an age of onset: 0 born with, 1 childhood, 2 working age, 3 old age. */
export function onsetCode(age: number | null): string | undefined {
  if (age === null) return undefined;
  return age === 0 ? '0' : age < 18 ? '1' : age < 65 ? '2' : '3';
}

function detail(row: DisabilityRow): DciRecord {
  return compact({
    '@type': 'DisabilityDetails',
    impairment_type: row.disability_type,
    impairment_cause: row.cause,
    age_on_set: onsetCode(row.age_of_onset),
    functional_severity: row.functional_severity,
    disability_status: DISABILITY_STATUS_CODES[row.status] ?? row.status,
    disability_status_level: row.support_level,
    assessed_on: row.assessed_on,
  });
}

/** The person's status (the best of their assessments') and the highest support need at it. */
function summary(rows: readonly DisabilityRow[]) {
  const status = STATUS_RANK.find((s) => rows.some((r) => r.status === s)) ?? rows[0]?.status;
  const levels = rows.filter((r) => r.status === status && r.support_level !== null).map((r) => r.support_level!);
  return {
    status: status === undefined ? undefined : (DISABILITY_STATUS_CODES[status] ?? status),
    level: levels.length ? Math.min(...levels) : undefined,
  };
}

/** A registry individual as a DR `DisabledPerson`. */
export function toDisabledPerson(
  row: PersonRow,
  ids: readonly IdentifierRow[],
  disabilities: readonly DisabilityRow[],
  programmes: readonly ProgrammeRow[],
): DciRecord {
  const member = toMember(row, ids);
  const { status, level } = summary(disabilities);
  return compact({
    '@id': urn(row.id),
    '@type': 'DisabledPerson',
    personal_details: compact({
      ...member,
      disability_info: disabilities.map((d) =>
        compact({ disability_limitation_type: d.disability_type, functional_severity: d.functional_severity }),
      ),
    }),
    disability_status: status,
    disability_status_level: level,
    disability_details: disabilities.map(detail),
    programs_enrolments: programmes.map((p) => ({
      '@type': 'Programme',
      programme_identifier: p.programme_code,
      programme_name: p.programme_name,
    })),
    registration_date: row.registration_date,
    last_updated: row.updated_at.toISOString(),
  });
}
