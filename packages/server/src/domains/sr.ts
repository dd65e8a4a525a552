/**
 * Social Registry record types (dci-brief §7.2): a person is a `Member` (`records.ts` `toMember`),
 * a household a `Group` with its head and members as `Member`s. The `Group` is also the household
 * record of IBR, where it carries the household's own programme enrollments.
 */
import type { Address } from '../db/schema.js';
import { identifiers, urn, type DciRecord, type IdentifierRow } from './records.js';

export { toMember } from './records.js';

/** AssistanceUnit codes of a group type. */
export const GROUP_TYPE_CODES: Readonly<Record<string, string>> = { member: '1', household: '2', family: '3' };

export interface GroupRow {
  id: string;
  group_type: string;
  head_id: string | null;
  size: number;
  poverty_score: string | number | null;
  poverty_score_type: string | null;
  address: Address | null;
  area_code: string | null;
  registration_date: string | null;
  updated_at: Date;
}

/**
 * A household as a `Group`; `members` are its members' records in list order (the head among
 * them or not); `more` is appended (IBR: `programme_identifier`).
 */
export function toGroup(
  row: GroupRow,
  ids: readonly IdentifierRow[],
  head: DciRecord | undefined,
  members: readonly DciRecord[],
  more: DciRecord = {},
): DciRecord {
  return {
    '@id': urn(row.id),
    '@type': 'Group',
    group_identifier: identifiers(ids),
    group_type: GROUP_TYPE_CODES[row.group_type] ?? row.group_type,
    ...(row.address ? { address: [{ ...row.address, sub_region_code: row.area_code ?? undefined }] } : {}),
    ...(row.poverty_score !== null ? { poverty_score: Number(row.poverty_score) } : {}),
    ...(row.poverty_score_type ? { poverty_score_type: row.poverty_score_type } : {}),
    ...(head ? { group_head_info: head } : {}),
    group_size: row.size,
    member_list: [...members],
    ...(row.registration_date ? { registration_date: row.registration_date } : {}),
    last_updated: row.updated_at.toISOString(),
    ...more,
  };
}
