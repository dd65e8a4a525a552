/**
 * IBR record type `Beneficiary` (dci-brief §7.4; [S] `extensions/ibr/v1/data/{Beneficiary,
 * Programme,Benefit}.jsonld`). The spec's `Beneficiary` is one person in one programme; ours is a
 * person with all their enrollments, so `programme_identifier` lists one `Programme` per
 * enrollment, each carrying that enrollment's `enrollment_date`, `enrollment_status`,
 * `status_change_date` and `benefits` (the Beneficiary's own names, placed on the programme they
 * belong to, as the upstream example nests them). Codes are the DCI ones.
 */
import { compact, toMember, urn, type DciRecord, type IdentifierRow, type PersonRow } from './records.js';

/** EnrollmentStatusEnum. */
export const ENROLLMENT_STATUS_CODES: Readonly<Record<string, string>> = {
  active: '1',
  deceased: '2',
  graduated: '3',
  suspended: '4',
};

/** BenefitTypeEnum. */
export const BENEFIT_TYPE_CODES: Readonly<Record<string, string>> = {
  cash: '1',
  voucher: '2',
  in_kind: '3',
  training: '4',
  work: '5',
  insurance: '6',
};

/** How many benefits an enrollment shows, the most recent first. */
export const BENEFITS_SHOWN = 12;

export interface BenefitRow {
  benefit_type: string;
  benefit_date: string;
  amount: number | null;
  currency: string | null;
  quantity: number | null;
  description: string | null;
}

export interface EnrollmentRow {
  programme_code: string;
  programme_name: string;
  description: string | null;
  institution: string | null;
  programme_type: string | null;
  status: string;
  enrollment_date: string | null;
  status_change_date: string | null;
  benefits: BenefitRow[] | null;
}

function benefit(row: BenefitRow): DciRecord {
  const value = row.amount === null ? undefined : row.currency ? `${row.currency} ${row.amount}` : String(row.amount);
  return compact({
    '@type': 'Benefit',
    benefit_type: BENEFIT_TYPE_CODES[row.benefit_type] ?? row.benefit_type,
    benefit_date: row.benefit_date,
    benefit_value: value,
    benefit_quantity: row.quantity,
    benefit_description: row.description,
  });
}

/** One enrollment: its `Programme`, with the enrollment's dates, status and benefits. */
export function toProgrammeEnrollment(row: EnrollmentRow): DciRecord {
  return compact({
    '@type': 'Programme',
    programme_identifier: row.programme_code,
    programme_name: row.programme_name,
    programme_description: row.description,
    implementing_institution: row.institution,
    programme_type: row.programme_type,
    enrollment_date: row.enrollment_date,
    enrollment_status: ENROLLMENT_STATUS_CODES[row.status] ?? row.status,
    status_change_date: row.status_change_date ? [row.status_change_date] : undefined,
    benefits: (row.benefits ?? []).map(benefit),
  });
}

/** A registry individual as an IBR `Beneficiary` (assistance unit 1, Member). */
export function toBeneficiary(
  row: PersonRow,
  ids: readonly IdentifierRow[],
  enrollments: readonly EnrollmentRow[],
): DciRecord {
  return compact({
    '@id': urn(row.id),
    '@type': 'Beneficiary',
    assistance_unit: '1',
    member: toMember(row, ids),
    programme_identifier: enrollments.map(toProgrammeEnrollment),
  });
}
