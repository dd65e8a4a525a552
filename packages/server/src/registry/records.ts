/**
 * The shapes of registry import records (NDJSON lines; CSV rows are flattened into these).
 * Documented for users in docs/data-formats.md. Absent = not given (left as stored on update).
 */
import type { Address, Livestock } from '../db/schema.js';

export interface IdentifierRef {
  type: string;
  value: string;
}

export interface AreaRecord {
  type: 'area';
  code: string;
  name: string;
  level?: number;
  parent_code?: string | null;
}

export interface ProgrammeRecord {
  type: 'programme';
  code: string;
  name: string;
  description?: string | null;
  institution?: string | null;
  programme_type?: string | null;
  benefit_type?: string | null;
}

export interface BenefitInput {
  benefit_type: string;
  benefit_date: string;
  amount?: number | null;
  currency?: string | null;
  quantity?: number | null;
  description?: string | null;
}

export interface EnrollmentInput {
  programme_code: string;
  status?: string;
  enrollment_date?: string | null;
  status_change_date?: string | null;
  benefits?: BenefitInput[];
}

export interface DisabilityInput {
  disability_type: string;
  functional_severity?: number | null;
  status?: string;
  support_level?: number | null;
  cause?: string | null;
  age_of_onset?: number | null;
  assessed_on?: string | null;
}

export interface FarmInput {
  identifiers?: IdentifierRef[];
  farm_type?: string | null;
  land_size?: number | null;
  land_tenure?: string | null;
  measurement_unit?: string;
  crop_types?: string[];
  irrigation_type?: string | null;
  livestock?: Livestock[];
  area_code?: string | null;
  registration_date?: string | null;
}

export interface ConsentInput {
  sender_id: string;
  purpose?: string;
  given_at: string;
  expires_at?: string | null;
  revoked_at?: string | null;
}

export interface IndividualInput {
  identifiers: IdentifierRef[];
  given_name?: string | null;
  surname?: string | null;
  second_name?: string | null;
  maiden_name?: string | null;
  name_prefix?: string | null;
  name_suffix?: string | null;
  sex?: string | null;
  birth_date?: string | null;
  death_date?: string | null;
  marital_status?: string | null;
  phones?: string[];
  emails?: string[];
  address?: Address | null;
  area_code?: string | null;
  registration_date?: string | null;
  occupation?: string | null;
  education_level?: string | null;
  employment_status?: string | null;
  language_code?: string | null;
  income_level?: string | null;
  extra?: Record<string, unknown>;
  disabilities?: DisabilityInput[];
  enrollments?: EnrollmentInput[];
  farms?: FarmInput[];
  consents?: ConsentInput[];
}

export interface IndividualRecord extends IndividualInput {
  type: 'individual';
  /** CSV only: the household this person belongs to, and the relationship to its head. */
  household?: IdentifierRef;
  relationship?: string;
}

export interface MemberInput extends IndividualInput {
  relationship?: string;
}

export interface HouseholdRecord {
  type: 'household';
  identifiers: IdentifierRef[];
  group_type?: string;
  area_code?: string | null;
  address?: Address | null;
  poverty_score?: number | null;
  poverty_score_type?: string | null;
  registration_date?: string | null;
  extra?: Record<string, unknown>;
  members?: MemberInput[];
  enrollments?: EnrollmentInput[];
}

export interface VitalEventRecord {
  type: 'vital_event';
  event_type: string;
  registration_number: string;
  event_date: string;
  subject?: IdentifierRef | null;
  partner?: IdentifierRef | null;
  parent1?: IdentifierRef | null;
  parent2?: IdentifierRef | null;
  place?: string | null;
  area_code?: string | null;
  registration_date?: string | null;
}

export interface EnrollmentRecord extends EnrollmentInput {
  type: 'enrollment';
  beneficiary: IdentifierRef;
}

export interface DisabilityRecord extends DisabilityInput {
  type: 'disability';
  person: IdentifierRef;
}

export interface FarmRecord extends FarmInput {
  type: 'farm';
  farmer: IdentifierRef;
}

export interface ConsentRecord extends ConsentInput {
  type: 'consent';
  person: IdentifierRef;
}

export type ImportRecord =
  | AreaRecord
  | ProgrammeRecord
  | IndividualRecord
  | HouseholdRecord
  | VitalEventRecord
  | EnrollmentRecord
  | DisabilityRecord
  | FarmRecord
  | ConsentRecord;

export type RecordType = ImportRecord['type'];

export const RECORD_TYPES: readonly RecordType[] = [
  'area',
  'programme',
  'individual',
  'household',
  'vital_event',
  'enrollment',
  'disability',
  'farm',
  'consent',
];
