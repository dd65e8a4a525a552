/** Reading registry records in their DCI shape. */
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { identifiers, toMember, type DciRecord, type IdentifierRow } from '../domains/records.js';

const GROUP_TYPE_CODES: Record<string, string> = { member: '1', household: '2', family: '3' };

export class RegistryReader {
  constructor(private readonly db: Kysely<DB>) {}

  private async identifiersOf(ids: readonly string[]): Promise<Map<string, IdentifierRow[]>> {
    const map = new Map<string, IdentifierRow[]>();
    if (ids.length === 0) return map;
    const rows = await this.db
      .selectFrom('identifier')
      .select(['entity_id', 'id_type', 'id_value'])
      .where('entity_id', 'in', ids)
      .orderBy('id_type')
      .execute();
    for (const row of rows) {
      const list = map.get(row.entity_id) ?? [];
      list.push(row);
      map.set(row.entity_id, list);
    }
    return map;
  }

  async members(ids: readonly string[]): Promise<Map<string, DciRecord>> {
    const out = new Map<string, DciRecord>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectFrom('individual')
      .leftJoin('area', 'area.id', 'individual.area_id')
      .selectAll('individual')
      .select('area.code as area_code')
      .where('individual.id', 'in', ids)
      .execute();
    const ids2 = await this.identifiersOf(ids);
    for (const row of rows) out.set(row.id, toMember(row, ids2.get(row.id) ?? []));
    return out;
  }

  async group(id: string): Promise<DciRecord | undefined> {
    const row = await this.db
      .selectFrom('household')
      .leftJoin('area', 'area.id', 'household.area_id')
      .selectAll('household')
      .select('area.code as area_code')
      .where('household.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const memberships = await this.db
      .selectFrom('membership')
      .select(['individual_id', 'relationship'])
      .where('household_id', '=', id)
      .execute();
    const members = await this.members(memberships.map((m) => m.individual_id));
    const ids = await this.identifiersOf([id]);
    const head = row.head_id ? members.get(row.head_id) : undefined;
    return {
      '@id': `urn:uuid:${row.id}`,
      '@type': 'Group',
      group_identifier: identifiers(ids.get(id) ?? []),
      group_type: GROUP_TYPE_CODES[row.group_type] ?? row.group_type,
      ...(row.address ? { address: [{ ...row.address, sub_region_code: row.area_code ?? undefined }] } : {}),
      ...(row.poverty_score !== null ? { poverty_score: Number(row.poverty_score) } : {}),
      ...(row.poverty_score_type ? { poverty_score_type: row.poverty_score_type } : {}),
      ...(head ? { group_head_info: head } : {}),
      group_size: row.size,
      member_list: memberships.map((m) => members.get(m.individual_id)).filter((m): m is DciRecord => m !== undefined),
      ...(row.registration_date ? { registration_date: row.registration_date } : {}),
      last_updated: row.updated_at.toISOString(),
    };
  }

  /** Records in their DCI shape, keyed by id: individuals as `Member`, households as `Group`. */
  async load(kind: 'individual' | 'household', ids: readonly string[]): Promise<Map<string, DciRecord>> {
    if (kind === 'individual') return this.members(ids);
    const out = new Map<string, DciRecord>();
    for (const id of ids) {
      const group = await this.group(id);
      if (group) out.set(id, group);
    }
    return out;
  }
}
