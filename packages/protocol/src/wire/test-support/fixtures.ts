/**
 * Realistic wire content for the wire tests: one record per domain in the [S] JSON-LD names
 * (`dci-brief.md` §7), ids and timestamps fixed so that failures are reproducible.
 */
import type { DciDomain, JsonObject } from '../common.js';

export const T0 = '2025-03-01T09:30:00Z';
export const T1 = '2025-03-01T09:30:01.250Z';
export const SERVER_ID = 'opendci';
export const CLIENT_ID = 'spmis.example.org';
export const CALLBACK_BASE = 'https://spmis.example.org/dci';

export const REG_TYPES: Record<DciDomain, string> = {
  social: 'ns:org:RegistryType:Social',
  crvs: 'ns:org:RegistryType:Civil',
  ibr: 'ns:org:RegistryType:IBR',
  dr: 'ns:org:RegistryType:DR',
  fr: 'ns:org:RegistryType:FR',
};

export const RECORD_TYPES: Record<DciDomain, string> = {
  social: 'Member',
  crvs: 'Person',
  ibr: 'Beneficiary',
  dr: 'DisabledPerson',
  fr: 'Farmer',
};

/** The notify event each domain's fixture uses (a spec value, within each closed enum). */
export const EVENT_TYPES: Record<DciDomain, string> = {
  social: 'REGISTER',
  crvs: 'LiveBirth',
  ibr: 'enrollement',
  dr: 'REGISTER',
  fr: 'REGISTER',
};

const identifier = (type: string, value: string) => ({
  '@type': 'Identifier',
  identifier_type: type,
  identifier_value: value,
});

const person: JsonObject = {
  '@type': 'Person',
  identifier: [identifier('UIN', 'TEST-001')],
  name: { '@type': 'Name', given_name: 'Amina', surname: 'Okafor', second_name: 'Ada' },
  sex: 'female',
  birth_date: '1988-04-12',
  address: [
    {
      '@type': 'Address',
      address_line_1: '12 Market Road',
      locality: 'Central Ward',
      region_code: 'CR',
      country_code: 'NG',
    },
  ],
  phone_number: ['+2348012345678'],
  registration_date: '2021-06-01T08:00:00Z',
  last_updated: '2024-11-20T14:05:00Z',
};

const member: JsonObject = {
  '@context': 'https://schema.spdci.org/extensions/social/v1/Member.jsonld',
  '@id': 'urn:uuid:5b1f7a2e-0a63-4a0e-9d55-6e4a3c8f0b11',
  '@type': 'Member',
  member_identifier: [identifier('UIN', 'TEST-001')],
  demographic_info: person,
  is_disabled: false,
  marital_status: 'M',
  employment_status: '1',
  registration_date: '2021-06-01T08:00:00Z',
  last_updated: '2024-11-20T14:05:00Z',
};

/** One record of each domain, as the registry answers it. */
export const RECORDS: Record<DciDomain, JsonObject> = {
  social: {
    '@context': 'https://schema.spdci.org/extensions/social/v1/Group.jsonld',
    '@id': 'urn:uuid:0d6c2f4e-51a1-4a4b-8d55-2b3c6b4f9a01',
    '@type': 'Group',
    group_identifier: [identifier('HOUSEHOLD_ID', 'HH-2021-0042')],
    group_type: '2',
    group_size: 4,
    poverty_score: 3.2,
    poverty_score_type: 'PMT',
    group_head_info: member,
    member_list: [member],
    registration_date: '2021-06-01T08:00:00Z',
    last_updated: '2024-11-20T14:05:00Z',
  },
  crvs: {
    '@context': 'https://schema.spdci.org/extensions/crvs/v1/CRVSPerson.jsonld',
    '@id': 'urn:uuid:7e0b9c3d-2f44-4c1e-a6c1-93d5e2f8a702',
    '@type': 'CRVS_Person',
    ...person,
    birth_place: { '@type': 'Place', name: 'General Hospital, Central Ward' },
    marital_status: 'S',
    parent1_identifier: identifier('UIN', 'TEST-101'),
    parent2_identifier: identifier('UIN', 'TEST-102'),
  },
  ibr: {
    '@context': 'https://schema.spdci.org/extensions/ibr/v1/Beneficiary.jsonld',
    '@id': 'urn:uuid:1c3e5a7b-9d2f-4b6a-8e0c-4f5a6b7c8d03',
    '@type': 'Beneficiary',
    assistance_unit: '1',
    member,
    programme_identifier: [
      { '@type': 'Programme', programme_identifier: 'DCI001', programme_name: 'Child Grant', programme_type: 'cash' },
    ],
    enrollment_date: '2023-02-01T00:00:00Z',
    enrollment_status: '1',
    benefits: [{ '@type': 'Benefit', benefit_type: '1', benefit_date: '2025-02-01', benefit_value: 'NGN 15000' }],
  },
  dr: {
    '@context': 'https://schema.spdci.org/extensions/dr/v1/DisabledPerson.jsonld',
    '@id': 'urn:uuid:2d4f6b8c-0e1a-4c3b-9f7d-5a6b7c8d9e04',
    '@type': 'DisabledPerson',
    personal_details: member,
    disability_status: '0',
    disability_status_level: '3',
    disability_details: [
      { impairment_type: 'mobility', impairment_level: 'moderate', impairment_cause: 'injury', age_on_set: 31 },
    ],
    registration_date: '2022-09-15T10:00:00Z',
    last_updated: '2024-05-02T09:00:00Z',
  },
  fr: {
    '@context': 'https://schema.spdci.org/extensions/fr/v1/Farmer.jsonld',
    '@id': 'urn:uuid:3e5a7c9d-1f2b-4d4c-8a8e-6b7c8d9e0f05',
    '@type': 'Farmer',
    farmer_personal_details: member,
    farm_type: '1',
    farm_details: [
      {
        location: { '@type': 'Place', name: 'Plot 7, River Valley' },
        land_tenure: 'owned',
        land_size: 2.5,
        measurment: 'hectare',
        farming_activities: {
          crop_production: [{ crop_type_name: 'maize', season: 'rainy', irrigation: false }],
          mixed_farming: true,
        },
      },
    ],
    registration_date: '2020-03-10T07:00:00Z',
    last_updated: '2024-08-30T12:00:00Z',
  },
};

/** DisabilitySupport records (DR get-disability-support). */
export const DISABILITY_SUPPORT: JsonObject[] = [
  {
    '@type': 'DisabilitySupport',
    assistive_technology: [{ type: 'wheelchair', status: 'provided' }],
    medical_care: [{ type: 'physiotherapy', status: 'ongoing' }],
    registration_date: '2022-09-15T10:00:00Z',
  },
];
