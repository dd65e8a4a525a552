import type { Kysely } from 'kysely';
import { runScript } from './script.js';

/** Registry tables: what the five DCI domains expose, plus the event log that feeds notifications. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runScript(
    db,
    `
create table area (
  id uuid primary key default gen_random_uuid(),
  code text not null unique,
  name text not null,
  level integer not null default 0,
  parent_id uuid references area (id),
  path text not null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index area_path_idx on area (path text_pattern_ops);

create table individual (
  id uuid primary key default gen_random_uuid(),
  given_name text,
  surname text,
  second_name text,
  maiden_name text,
  name_prefix text,
  name_suffix text,
  sex text check (sex in ('male', 'female', 'other', 'unknown')),
  birth_date date,
  death_date date,
  marital_status text check (marital_status in ('S', 'M', 'W', 'A', 'D', 'L', 'U')),
  phones text[] not null default '{}',
  emails text[] not null default '{}',
  address jsonb,
  area_id uuid references area (id),
  registration_date date,
  is_disabled boolean not null default false,
  occupation text,
  education_level text,
  employment_status text,
  language_code text,
  income_level text,
  extra jsonb not null default '{}',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index individual_sex_birth_idx on individual (sex, birth_date);
create index individual_birth_idx on individual (birth_date);
create index individual_area_idx on individual (area_id);
create index individual_registration_idx on individual (registration_date);
create index individual_marital_idx on individual (marital_status);
create index individual_surname_idx on individual (lower(surname));
create index individual_given_name_idx on individual (lower(given_name));
create index individual_disabled_idx on individual (is_disabled) where is_disabled;

create table household (
  id uuid primary key default gen_random_uuid(),
  group_type text not null default 'household' check (group_type in ('household', 'family', 'member')),
  head_id uuid references individual (id) on delete set null,
  size integer not null default 0,
  poverty_score numeric(7, 2),
  poverty_score_type text,
  area_id uuid references area (id),
  address jsonb,
  registration_date date,
  extra jsonb not null default '{}',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index household_area_idx on household (area_id);
create index household_poverty_idx on household (poverty_score);
create index household_size_idx on household (size);
create index household_type_idx on household (group_type);
create index household_registration_idx on household (registration_date);

-- No foreign keys here, on purpose: a foreign-key check locks the referenced row, and two row
-- locks per member doubled the time to load a million people. Only the registry writer inserts
-- memberships, and it inserts both ends first in the same transaction; deletes cascade by trigger.
create table membership (
  household_id uuid not null,
  individual_id uuid not null,
  relationship text not null default 'other',
  joined_on date,
  primary key (household_id, individual_id)
);
create index membership_individual_idx on membership (individual_id);
create function membership_cascade() returns trigger language plpgsql as $$
begin
  if tg_table_name = 'individual' then
    delete from membership where individual_id = old.id;
  else
    delete from membership where household_id = old.id;
  end if;
  return old;
end $$;
create trigger individual_membership_cascade after delete on individual for each row execute function membership_cascade();
create trigger household_membership_cascade after delete on household for each row execute function membership_cascade();

create table identifier (
  id_type text not null,
  id_value text not null,
  entity_type text not null check (entity_type in ('individual', 'household', 'farm')),
  entity_id uuid not null,
  primary key (id_type, id_value)
);
create index identifier_entity_idx on identifier (entity_id);

create table programme (
  id uuid primary key default gen_random_uuid(),
  code text not null unique,
  name text not null,
  description text,
  institution text,
  programme_type text,
  benefit_type text,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table enrollment (
  id uuid primary key default gen_random_uuid(),
  programme_id uuid not null references programme (id),
  individual_id uuid references individual (id) on delete cascade,
  household_id uuid references household (id) on delete cascade,
  beneficiary_id uuid generated always as (coalesce(individual_id, household_id)) stored,
  status text not null default 'active' check (status in ('active', 'deceased', 'graduated', 'suspended')),
  enrollment_date date,
  status_change_date date,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (num_nonnulls(individual_id, household_id) = 1),
  unique (programme_id, beneficiary_id)
);
create index enrollment_beneficiary_idx on enrollment (beneficiary_id);
create index enrollment_status_idx on enrollment (programme_id, status);
create index enrollment_date_idx on enrollment (enrollment_date);

create table benefit (
  id uuid primary key default gen_random_uuid(),
  enrollment_id uuid not null references enrollment (id) on delete cascade,
  benefit_type text not null check (benefit_type in ('cash', 'voucher', 'in_kind', 'training', 'work', 'insurance')),
  benefit_date date not null,
  amount numeric(14, 2),
  currency text,
  quantity numeric(14, 2),
  description text,
  created_at timestamptz not null default now(),
  unique (enrollment_id, benefit_date, benefit_type)
);

create table disability (
  id uuid primary key default gen_random_uuid(),
  individual_id uuid not null references individual (id) on delete cascade,
  disability_type text not null,
  functional_severity integer check (functional_severity between 1 and 4),
  status text not null default 'approved' check (status in ('approved', 'pending', 'expired')),
  support_level integer check (support_level between 1 and 4),
  cause text,
  age_of_onset integer,
  assessed_on date,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (individual_id, disability_type)
);
create index disability_type_idx on disability (disability_type, functional_severity);

create table vital_event (
  id uuid primary key default gen_random_uuid(),
  event_type text not null check (event_type in ('live_birth', 'death', 'fetal_death', 'marriage', 'divorce', 'adoption')),
  registration_number text not null unique,
  subject_id uuid references individual (id) on delete set null,
  partner_id uuid references individual (id) on delete set null,
  parent1_id uuid references individual (id) on delete set null,
  parent2_id uuid references individual (id) on delete set null,
  event_date date not null,
  place text,
  area_id uuid references area (id),
  registration_date date,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index vital_event_type_date_idx on vital_event (event_type, event_date);
create index vital_event_subject_idx on vital_event (subject_id);
create index vital_event_registration_idx on vital_event (registration_date);

create table farm (
  id uuid primary key default gen_random_uuid(),
  farmer_id uuid not null references individual (id) on delete cascade,
  farm_type text,
  land_size numeric(10, 2),
  land_tenure text,
  measurement_unit text not null default 'hectare',
  crop_types text[] not null default '{}',
  irrigation_type text,
  livestock jsonb not null default '[]',
  area_id uuid references area (id),
  registration_date date,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index farm_farmer_idx on farm (farmer_id);
create index farm_land_size_idx on farm (land_size);
create index farm_irrigation_idx on farm (irrigation_type);
create index farm_crops_idx on farm using gin (crop_types);
create index farm_livestock_idx on farm using gin (livestock jsonb_path_ops);

create table consent (
  id uuid primary key default gen_random_uuid(),
  individual_id uuid not null references individual (id) on delete cascade,
  sender_id text not null,
  purpose text not null default 'any',
  given_at timestamptz not null,
  expires_at timestamptz,
  revoked_at timestamptz,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (individual_id, sender_id, purpose)
);
create index consent_sender_idx on consent (sender_id, individual_id);

create table registry_event (
  id bigint generated always as identity primary key,
  event_type text not null,
  record_type text not null,
  record_id uuid not null,
  data jsonb not null default '{}',
  occurred_at timestamptz not null default now()
);
create index registry_event_record_idx on registry_event (record_id);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runScript(
    db,
    `
drop table registry_event, consent, farm, vital_event, disability, benefit, enrollment, programme,
  identifier, membership, household, individual, area cascade;
drop function membership_cascade;
`,
  );
}
