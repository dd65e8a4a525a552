import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Dates are read back as `YYYY-MM-DD` strings (see the type parsers in open.ts). */
type DateColumn = ColumnType<string, string, string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Numeric = ColumnType<string, number | string, number | string>;
type Json<T> = JSONColumnType<T & {}, string, string>;

export type Sex = 'male' | 'female' | 'other' | 'unknown';
export type MaritalStatus = 'S' | 'M' | 'W' | 'A' | 'D' | 'L' | 'U';
export type EntityType = 'individual' | 'household' | 'farm';

export interface Address {
  address_line_1?: string;
  address_line_2?: string;
  locality?: string;
  region_code?: string;
  sub_region_code?: string;
  postal_code?: string;
  country_code?: string;
  geo_location?: { latitude: number; longitude: number };
}

interface Versioned {
  version: Generated<number>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface AreaTable extends Versioned {
  id: Generated<string>;
  code: string;
  name: string;
  level: Generated<number>;
  parent_id: string | null;
  path: string;
}

export interface IndividualTable extends Versioned {
  id: Generated<string>;
  given_name: string | null;
  surname: string | null;
  second_name: string | null;
  maiden_name: string | null;
  name_prefix: string | null;
  name_suffix: string | null;
  sex: Sex | null;
  birth_date: DateColumn | null;
  death_date: DateColumn | null;
  marital_status: MaritalStatus | null;
  phones: Generated<string[]>;
  emails: Generated<string[]>;
  address: Json<Address> | null;
  area_id: string | null;
  registration_date: DateColumn | null;
  is_disabled: Generated<boolean>;
  occupation: string | null;
  education_level: string | null;
  employment_status: string | null;
  language_code: string | null;
  income_level: string | null;
  extra: Generated<Json<Record<string, unknown>>>;
}

export interface HouseholdTable extends Versioned {
  id: Generated<string>;
  group_type: Generated<'household' | 'family' | 'member'>;
  head_id: string | null;
  size: Generated<number>;
  poverty_score: Numeric | null;
  poverty_score_type: string | null;
  area_id: string | null;
  address: Json<Address> | null;
  registration_date: DateColumn | null;
  extra: Generated<Json<Record<string, unknown>>>;
}

export interface MembershipTable {
  household_id: string;
  individual_id: string;
  relationship: Generated<string>;
  joined_on: DateColumn | null;
}

export interface IdentifierTable {
  id_type: string;
  id_value: string;
  entity_type: EntityType;
  entity_id: string;
}

export interface ProgrammeTable extends Versioned {
  id: Generated<string>;
  code: string;
  name: string;
  description: string | null;
  institution: string | null;
  programme_type: string | null;
  benefit_type: string | null;
}

export type EnrollmentStatus = 'active' | 'deceased' | 'graduated' | 'suspended';

export interface EnrollmentTable extends Versioned {
  id: Generated<string>;
  programme_id: string;
  individual_id: string | null;
  household_id: string | null;
  beneficiary_id: ColumnType<string, never, never>;
  status: Generated<EnrollmentStatus>;
  enrollment_date: DateColumn | null;
  status_change_date: DateColumn | null;
}

export type BenefitType = 'cash' | 'voucher' | 'in_kind' | 'training' | 'work' | 'insurance';

export interface BenefitTable {
  id: Generated<string>;
  enrollment_id: string;
  benefit_type: BenefitType;
  benefit_date: DateColumn;
  amount: Numeric | null;
  currency: string | null;
  quantity: Numeric | null;
  description: string | null;
  created_at: GeneratedTimestamp;
}

export type DisabilityStatus = 'approved' | 'pending' | 'expired';

export interface DisabilityTable extends Versioned {
  id: Generated<string>;
  individual_id: string;
  disability_type: string;
  functional_severity: number | null;
  status: Generated<DisabilityStatus>;
  support_level: number | null;
  cause: string | null;
  age_of_onset: number | null;
  assessed_on: DateColumn | null;
}

export type VitalEventType = 'live_birth' | 'death' | 'fetal_death' | 'marriage' | 'divorce' | 'adoption';

export interface VitalEventTable extends Versioned {
  id: Generated<string>;
  event_type: VitalEventType;
  registration_number: string;
  subject_id: string | null;
  partner_id: string | null;
  parent1_id: string | null;
  parent2_id: string | null;
  event_date: DateColumn;
  place: string | null;
  area_id: string | null;
  registration_date: DateColumn | null;
}

export interface Livestock {
  type: string;
  count: number;
}

export interface FarmTable extends Versioned {
  id: Generated<string>;
  farmer_id: string;
  farm_type: string | null;
  land_size: Numeric | null;
  land_tenure: string | null;
  measurement_unit: Generated<string>;
  crop_types: Generated<string[]>;
  irrigation_type: string | null;
  livestock: Generated<Json<Livestock[]>>;
  area_id: string | null;
  registration_date: DateColumn | null;
}

export interface ConsentTable extends Versioned {
  id: Generated<string>;
  individual_id: string;
  sender_id: string;
  purpose: Generated<string>;
  given_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface RegistryEventTable {
  id: ColumnType<string, never, never>;
  event_type: string;
  record_type: string;
  record_id: string;
  data: Generated<Json<Record<string, unknown>>>;
  occurred_at: GeneratedTimestamp;
  batch_id: string | null;
}

export type SubscriptionStatus = 'active' | 'suspended' | 'unsubscribed' | 'expired';

export interface SubscriptionTable {
  code: string;
  sender_id: string;
  domain: string;
  event_types: string[];
  record_type: string;
  record_kind: 'individual' | 'household';
  filter_type: string | null;
  filter: Json<unknown> | null;
  notify_url: string;
  frequency: Json<unknown> | null;
  starts_at: Timestamp | null;
  expires_at: Timestamp | null;
  status: Generated<SubscriptionStatus>;
  status_reason: string | null;
  transaction_id: string;
  reference_id: string;
  correlation_id: string;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface NotificationTable {
  id: ColumnType<string, never, never>;
  subscription_code: string;
  event_id: string;
  event_type: string;
  record_id: string;
  status: Generated<'pending' | 'delivered'>;
  message_id: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: GeneratedTimestamp;
  delivered_at: Timestamp | null;
  /** A failed message is not attempted again before this time. */
  next_attempt_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type Operation = 'search' | 'subscribe' | 'unsubscribe' | 'txn-status' | 'verify' | 'admin';

export interface SenderTable {
  id: string;
  name: string | null;
  active: Generated<boolean>;
  client_secret_hash: string;
  operations: string[];
  domains: string[];
  signature_policy: Generated<'required' | 'optional'>;
  jwks_url: string | null;
  callback_allow: Generated<string[]>;
  notify_uri: string | null;
  /** null = every field. */
  fields: string[] | null;
  legal_basis: Generated<'statute' | 'agreement' | 'consent'>;
  rate_limit_per_minute: number | null;
  callback_auth: Json<Record<string, unknown>> | null;
  version: Generated<number>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface SenderKeyTable {
  sender_id: string;
  kid: string;
  algorithm: 'ed25519' | 'rsa-sha256';
  public_key_pem: string;
  source: Generated<'pem' | 'jwks'>;
  created_at: GeneratedTimestamp;
  revoked_at: Timestamp | null;
}

export interface ServerKeyTable {
  kid: string;
  algorithm: 'ed25519' | 'rsa-sha256';
  public_key_pem: string;
  /** `enc:v1:` + AES-256-GCM (iv, tag, ciphertext) when DCI_KEY_ENCRYPTION_KEY is set, else `plain:` + PEM. */
  private_key: string;
  status: Generated<'active' | 'retiring' | 'retired'>;
  created_at: GeneratedTimestamp;
  retire_after: Timestamp | null;
}

export interface ReplayTable {
  sender_id: string;
  message_id: string;
  seen_at: GeneratedTimestamp;
}

export interface DciTransactionTable {
  id: string;
  direction: 'inbound' | 'outbound';
  sender_id: string | null;
  receiver_id: string | null;
  domain: string | null;
  action: string | null;
  path: string | null;
  message_id: string | null;
  transaction_id: string | null;
  correlation_id: string | null;
  reference_ids: Generated<string[]>;
  status: string;
  reason_code: string | null;
  http_status: number | null;
  attempt: Generated<number>;
  received_at: GeneratedTimestamp;
  completed_at: Timestamp | null;
  duration_ms: number | null;
  request: Json<unknown> | null;
  response: Json<unknown> | null;
  consent: Json<unknown> | null;
  authorize: Json<unknown> | null;
}

export interface DciResultTable {
  correlation_id: string;
  sender_id: string;
  domain: string;
  txn_type: string;
  transaction_id: string;
  reference_ids: Generated<string[]>;
  status: string;
  result: Json<unknown> | null;
  created_at: GeneratedTimestamp;
  completed_at: Timestamp | null;
}

export interface DB {
  sender: SenderTable;
  sender_key: SenderKeyTable;
  server_key: ServerKeyTable;
  replay: ReplayTable;
  dci_transaction: DciTransactionTable;
  dci_result: DciResultTable;
  area: AreaTable;
  individual: IndividualTable;
  household: HouseholdTable;
  membership: MembershipTable;
  identifier: IdentifierTable;
  programme: ProgrammeTable;
  enrollment: EnrollmentTable;
  benefit: BenefitTable;
  disability: DisabilityTable;
  vital_event: VitalEventTable;
  farm: FarmTable;
  consent: ConsentTable;
  registry_event: RegistryEventTable;
  subscription: SubscriptionTable;
  notification: NotificationTable;
}
