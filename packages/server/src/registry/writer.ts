/**
 * The registry's write path: upserts validated records in batches and writes a registry event
 * for every change, in the caller's transaction. A batch is planned in memory first (every
 * lookup done in bulk, every row checked against the registry), then written table by table with
 * one statement per table, so that loading a million people stays fast on both backends.
 *
 * A row that cannot be applied (an identifier of another record, an unknown area or person) is
 * reported and leaves nothing behind: its plan is discarded before anything is written.
 */
import { uuid7 } from '../util/uuid7.js';
import { sql, type Kysely } from 'kysely';
import type { DB, EntityType } from '../db/schema.js';
import type { IdentifierRef } from './records.js';
import { jsonBulkInsert, type BulkInsert, type TableSpec } from './bulk.js';
import { matchSubscriptions } from '../subscriptions/matcher.js';
import {
  RowError,
  type CleanBenefit,
  type CleanConsent,
  type CleanDisability,
  type CleanEnrollment,
  type CleanFarm,
  type CleanPerson,
  type CleanRecord,
  type IndividualFields,
} from './normalize.js';

export type RowStatus = 'inserted' | 'updated' | 'unchanged' | 'failed';

export interface RowOutcome {
  status: RowStatus;
  reason?: string;
}

/** Registry event types written by the store; later issues map them onto the DCI domains. */
export const EVENT = {
  register: 'REGISTER',
  update: 'UPDATE',
  deregister: 'DEREGISTER',
  newMember: 'NewHouseHoldMember',
  liveBirth: 'LiveBirth',
  death: 'Death',
  marriage: 'Marriage',
  divorce: 'Divorce',
  enrollment: 'enrollement',
  enrollmentStatusChange: 'enrollement_status_change',
} as const;

const VITAL_EVENT_NAMES: Record<string, string> = {
  live_birth: EVENT.liveBirth,
  death: EVENT.death,
  marriage: EVENT.marriage,
  divorce: EVENT.divorce,
};

type Row = Record<string, unknown>;

interface Tracked {
  row: Row;
  isNew: boolean;
  /** Column changes of an existing row, merged over the batch. */
  changes?: Row;
}

interface EventRow {
  event_type: string;
  record_type: string;
  record_id: string;
  data: Row;
  batch_id?: string;
}

/** Runs in the transaction of a write, after its events: `batchId` marks them (the matcher). */
export type EventHook = (db: Kysely<DB>, batchId: string) => Promise<unknown>;

const idKey = (ref: IdentifierRef) => `${ref.type}\u0000${ref.value}`;
const keyOf = (...parts: unknown[]) => parts.join('|');
const compareKeys = (a: Row, b: Row) => {
  const [ta, tb] = [a.id_type as string, b.id_type as string];
  if (ta !== tb) return ta < tb ? -1 : 1;
  const [va, vb] = [a.id_value as string, b.id_value as string];
  return va < vb ? -1 : va > vb ? 1 : 0;
};

// Column order of the bulk inserts; every table's generated columns are left out.
const COLUMNS = {
  area: ['id', 'code', 'name', 'level', 'parent_id', 'path'],
  programme: ['id', 'code', 'name', 'description', 'institution', 'programme_type', 'benefit_type'],
  individual: [
    'id',
    'given_name',
    'surname',
    'second_name',
    'maiden_name',
    'name_prefix',
    'name_suffix',
    'sex',
    'birth_date',
    'death_date',
    'marital_status',
    'phones',
    'emails',
    'address',
    'area_id',
    'registration_date',
    'is_disabled',
    'occupation',
    'education_level',
    'employment_status',
    'language_code',
    'income_level',
    'extra',
  ],
  household: [
    'id',
    'group_type',
    'head_id',
    'size',
    'poverty_score',
    'poverty_score_type',
    'area_id',
    'address',
    'registration_date',
    'extra',
  ],
  membership: ['household_id', 'individual_id', 'relationship', 'joined_on'],
  identifier: ['id_type', 'id_value', 'entity_type', 'entity_id'],
  enrollment: [
    'id',
    'programme_id',
    'individual_id',
    'household_id',
    'status',
    'enrollment_date',
    'status_change_date',
  ],
  benefit: ['id', 'enrollment_id', 'benefit_type', 'benefit_date', 'amount', 'currency', 'quantity', 'description'],
  disability: [
    'id',
    'individual_id',
    'disability_type',
    'functional_severity',
    'status',
    'support_level',
    'cause',
    'age_of_onset',
    'assessed_on',
  ],
  vital_event: [
    'id',
    'event_type',
    'registration_number',
    'subject_id',
    'partner_id',
    'parent1_id',
    'parent2_id',
    'event_date',
    'place',
    'area_id',
    'registration_date',
  ],
  farm: [
    'id',
    'farmer_id',
    'farm_type',
    'land_size',
    'land_tenure',
    'measurement_unit',
    'crop_types',
    'irrigation_type',
    'livestock',
    'area_id',
    'registration_date',
  ],
  consent: ['id', 'individual_id', 'sender_id', 'purpose', 'given_at', 'expires_at', 'revoked_at'],
  registry_event: ['event_type', 'record_type', 'record_id', 'data', 'batch_id'],
} satisfies Record<string, readonly string[]>;

const TEXT_ARRAYS = ['phones', 'emails', 'crop_types'];
const spec = (table: keyof typeof COLUMNS): TableSpec => ({ columns: COLUMNS[table], textArrays: TEXT_ARRAYS });

/** Tables in the order their inserts must run (foreign keys point backwards). */
const INSERT_ORDER = [
  'area',
  'programme',
  'individual',
  'household',
  'membership',
  'identifier',
  'enrollment',
  'benefit',
  'disability',
  'farm',
  'consent',
  'vital_event',
] as const;
type Table = (typeof INSERT_ORDER)[number];

/** Tables whose rows carry `version`/`updated_at` (membership and benefit do not). */
const VERSIONED: ReadonlySet<Table> = new Set([
  'area',
  'programme',
  'individual',
  'household',
  'enrollment',
  'disability',
  'farm',
  'consent',
  'vital_event',
]);

// ---------------------------------------------------------------------------------------------
// value comparison: stored values come back as strings (numeric, date), Date (timestamptz) or JSON

function sameValue(stored: unknown, next: unknown): boolean {
  if (stored === next) return true;
  if (stored === null || stored === undefined || next === null || next === undefined) {
    return (stored ?? null) === (next ?? null);
  }
  if (stored instanceof Date) return stored.getTime() === new Date(next as string).getTime();
  if (typeof next === 'number') return Number(stored) === next;
  if (typeof stored === 'object' || typeof next === 'object') return stableJson(stored) === stableJson(next);
  return JSON.stringify(stored) === JSON.stringify(next);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Row)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Applies the given (defined) fields to a tracked row; returns true when anything changed. */
function apply(tracked: Tracked, fields: Row): boolean {
  let changed = false;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (sameValue(tracked.row[key], value)) continue;
    tracked.row[key] = value;
    if (!tracked.isNew) (tracked.changes ??= {})[key] = value;
    changed = true;
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------

interface AreaEntry {
  id: string;
  path: string;
  row: Row;
}

/**
 * Batch writer. One instance per import: it caches areas and programmes (small tables) across
 * batches. `writeBatch` must run inside `runInTx`; it plans every row, then writes.
 */
export class RegistryWriter {
  private areas = new Map<string, AreaEntry>();
  private programmes = new Map<string, Row>();
  private cachesLoaded = false;

  /**
   * `bulk` writes the new rows of each table (COPY on a PostgreSQL session, else JSON inserts);
   * `onEvents` sees the events of each write in its transaction (subscriptions are matched there).
   */
  constructor(
    private readonly bulk: BulkInsert = jsonBulkInsert,
    private readonly onEvents: EventHook = matchSubscriptions,
  ) {}

  /** Plans and writes one batch, in the caller's transaction. */
  async writeBatch(db: Kysely<DB>, records: readonly CleanRecord[]): Promise<RowOutcome[]> {
    const planned = await this.plan(db, records);
    await this.write(db, planned);
    return planned.outcomes;
  }

  /**
   * Plans a batch: reads what it needs through `readDb` and decides every insert, change and
   * event. With `previous` (a planned batch whose write has not committed yet), what that batch
   * will have written counts as already there, so that planning can overlap the previous write.
   * If `previous` then fails, this plan must be discarded (and `reset()` called).
   */
  async plan(readDb: Kysely<DB>, records: readonly CleanRecord[], previous?: PlannedBatch): Promise<PlannedBatch> {
    if (!this.cachesLoaded) await this.loadCaches(readDb);
    const batch = new Batch(this.areas, this.programmes, previous?.batch);
    await batch.preload(readDb, records);
    const outcomes = records.map((record) => batch.plan(record));
    batch.commitCaches();
    return { batch, outcomes };
  }

  /** Writes a planned batch, in the caller's transaction. */
  async write(db: Kysely<DB>, planned: PlannedBatch): Promise<void> {
    await planned.batch.flush(db, this.bulk, this.onEvents);
  }

  /** Forget cached areas/programmes (after a failed batch whose inserts were rolled back). */
  reset(): void {
    this.areas.clear();
    this.programmes.clear();
    this.cachesLoaded = false;
  }

  private async loadCaches(db: Kysely<DB>): Promise<void> {
    const areas = await db.selectFrom('area').select(['id', 'code', 'name', 'level', 'parent_id', 'path']).execute();
    for (const a of areas) this.areas.set(a.code, { id: a.id, path: a.path, row: a });
    const programmes = await db
      .selectFrom('programme')
      .select(['id', 'code', 'name', 'description', 'institution', 'programme_type', 'benefit_type'])
      .execute();
    for (const p of programmes) this.programmes.set(p.code, p);
    this.cachesLoaded = true;
  }
}

export interface PlannedBatch {
  readonly batch: Batch;
  readonly outcomes: RowOutcome[];
}

/** The plan of one batch: tracked rows per table, identifier map, events. */
class Batch {
  private ids = new Map<string, { entityType: EntityType; entityId: string }>();
  private tracked: Record<Table, Map<string, Tracked>> = Object.fromEntries(
    INSERT_ORDER.map((t) => [t, new Map<string, Tracked>()]),
  ) as Record<Table, Map<string, Tracked>>;
  private events: EventRow[] = [];
  private touchedHouseholds = new Set<string>();
  private touchedDisabled = new Set<string>();
  private newAreas = new Map<string, AreaEntry>();
  private newProgrammes = new Map<string, Row>();

  // The undo log of the row being planned: a failed row restores what it touched.
  private undo: (() => void)[] = [];

  constructor(
    private readonly areas: Map<string, AreaEntry>,
    private readonly programmes: Map<string, Row>,
    private previous?: Batch,
  ) {}

  /**
   * Starts from the end state of the previous (uncommitted) batch: its identifiers and the rows
   * it planned count as stored, and changes to them become updates of this batch.
   */
  private inherit(refs: Map<string, IdentifierRef>): void {
    const previous = this.previous;
    // Dropped once read: otherwise every batch would keep the whole chain of earlier ones alive.
    this.previous = undefined;
    if (!previous) return;
    for (const key of refs.keys()) {
      const entry = previous.ids.get(key);
      if (entry) {
        this.ids.set(key, entry);
        refs.delete(key);
      }
    }
    for (const table of INSERT_ORDER) {
      if (table === 'identifier') continue;
      // Only what the previous batch writes is missing from the database; the rest is read from it.
      for (const [key, t] of previous.tracked[table]) {
        if (t.isNew || t.changes) this.tracked[table].set(key, { row: { ...t.row }, isNew: false });
      }
    }
  }

  // --- preload: every lookup the batch needs, one query per table --------------------------

  async preload(db: Kysely<DB>, records: readonly CleanRecord[]): Promise<void> {
    const refs = new Map<string, IdentifierRef>();
    const addRef = (ref: IdentifierRef | null | undefined) => {
      if (ref) refs.set(idKey(ref), ref);
    };
    const addPerson = (p: CleanPerson) => {
      p.identifiers.forEach(addRef);
      p.farms.forEach((f) => f.identifiers.forEach(addRef));
    };
    const registrationNumbers: string[] = [];
    for (const r of records) {
      switch (r.type) {
        case 'individual':
          addPerson(r.person);
          addRef(r.household);
          break;
        case 'household':
          r.identifiers.forEach(addRef);
          r.members.forEach(addPerson);
          break;
        case 'vital_event':
          [r.subject, r.partner, r.parent1, r.parent2].forEach(addRef);
          registrationNumbers.push(r.registration_number);
          break;
        case 'enrollment':
          addRef(r.beneficiary);
          break;
        case 'disability':
        case 'consent':
          addRef(r.person);
          break;
        case 'farm':
          addRef(r.farmer);
          r.identifiers.forEach(addRef);
          break;
        default:
          break;
      }
    }
    this.inherit(refs);
    if (refs.size > 0) {
      const list = [...refs.values()];
      const found = await sql<{ id_type: string; id_value: string; entity_type: EntityType; entity_id: string }>`
        select i.id_type, i.id_value, i.entity_type, i.entity_id
        from identifier i
        join unnest(${list.map((r) => r.type)}::text[], ${list.map((r) => r.value)}::text[]) as k(t, v)
          on i.id_type = k.t and i.id_value = k.v`.execute(db);
      for (const row of found.rows) {
        this.ids.set(`${row.id_type}\u0000${row.id_value}`, { entityType: row.entity_type, entityId: row.entity_id });
      }
    }
    const entityIds = (type: EntityType) => [
      ...new Set([...this.ids.values()].filter((e) => e.entityType === type).map((e) => e.entityId)),
    ];
    const individualIds = entityIds('individual');
    const householdIds = entityIds('household');
    const farmIds = entityIds('farm');
    const beneficiaryIds = [...individualIds, ...householdIds];

    const load = async <T extends Table>(table: T, rows: Row[], key: (row: Row) => string) => {
      const map = this.tracked[table];
      for (const row of rows) {
        const k = key(row);
        if (!map.has(k)) map.set(k, { row, isNew: false });
      }
    };
    if (individualIds.length) {
      await load(
        'individual',
        await db.selectFrom('individual').selectAll().where('id', 'in', individualIds).execute(),
        (r) => r.id as string,
      );
      await load(
        'disability',
        await db.selectFrom('disability').selectAll().where('individual_id', 'in', individualIds).execute(),
        (r) => keyOf(r.individual_id, r.disability_type),
      );
      await load(
        'consent',
        await db.selectFrom('consent').selectAll().where('individual_id', 'in', individualIds).execute(),
        (r) => keyOf(r.individual_id, r.sender_id, r.purpose),
      );
    }
    if (householdIds.length) {
      await load(
        'household',
        await db.selectFrom('household').selectAll().where('id', 'in', householdIds).execute(),
        (r) => r.id as string,
      );
      await load(
        'membership',
        await db.selectFrom('membership').selectAll().where('household_id', 'in', householdIds).execute(),
        (r) => keyOf(r.household_id, r.individual_id),
      );
    }
    if (beneficiaryIds.length) {
      const enrollments = await db
        .selectFrom('enrollment')
        .selectAll()
        .where('beneficiary_id', 'in', beneficiaryIds)
        .execute();
      await load('enrollment', enrollments, (r) => keyOf(r.programme_id, r.beneficiary_id));
      const enrollmentIds = enrollments.map((e) => e.id);
      if (enrollmentIds.length) {
        await load(
          'benefit',
          await db.selectFrom('benefit').selectAll().where('enrollment_id', 'in', enrollmentIds).execute(),
          (r) => keyOf(r.enrollment_id, r.benefit_date, r.benefit_type),
        );
      }
    }
    if (farmIds.length) {
      await load(
        'farm',
        await db.selectFrom('farm').selectAll().where('id', 'in', farmIds).execute(),
        (r) => r.id as string,
      );
    }
    if (registrationNumbers.length) {
      await load(
        'vital_event',
        await db
          .selectFrom('vital_event')
          .selectAll()
          .where('registration_number', 'in', [...new Set(registrationNumbers)])
          .execute(),
        (r) => r.registration_number as string,
      );
    }
  }

  // --- planning -----------------------------------------------------------------------------

  plan(record: CleanRecord): RowOutcome {
    this.undo = [];
    const eventsBefore = this.events.length;
    try {
      const changed = this.planRecord(record);
      return { status: changed === 'inserted' ? 'inserted' : changed === 'updated' ? 'updated' : 'unchanged' };
    } catch (error) {
      for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]!();
      this.events.length = eventsBefore;
      if (error instanceof RowError) return { status: 'failed', reason: error.message };
      throw error;
    } finally {
      this.undo = [];
    }
  }

  /** Returns what happened to the row's main record (and its nested records). */
  private planRecord(record: CleanRecord): 'inserted' | 'updated' | 'unchanged' {
    switch (record.type) {
      case 'area':
        return this.planArea(record);
      case 'programme':
        return this.planProgramme(record);
      case 'individual': {
        const outcome = this.planPerson(record.person);
        let changed = outcome.status;
        if (record.household) {
          const household = this.resolve(record.household, 'household', 'household');
          if (
            this.planMembership(
              household,
              outcome.id,
              record.person.relationship ?? 'other',
              outcome.status === 'inserted',
            )
          ) {
            if (changed === 'unchanged') changed = 'updated';
          }
        }
        return changed;
      }
      case 'household':
        return this.planHousehold(record);
      case 'vital_event':
        return this.planVitalEvent(record);
      case 'enrollment': {
        const target = this.resolveAny(record.beneficiary, 'beneficiary');
        return this.planEnrollment(target, record);
      }
      case 'disability':
        return this.planDisability(this.resolve(record.person, 'individual', 'person'), record);
      case 'farm':
        return this.planFarm(this.resolve(record.farmer, 'individual', 'farmer'), record);
      case 'consent':
        return this.planConsent(this.resolve(record.person, 'individual', 'person'), record);
    }
  }

  private event(event_type: string, record_type: string, record_id: string, data: Row = {}): void {
    this.events.push({ event_type, record_type, record_id, data });
  }

  /** Tracks a row under `key`, remembering how to undo it if the row fails. */
  private track(table: Table, key: string, tracked: Tracked): void {
    const map = this.tracked[table];
    const before = map.get(key);
    map.set(key, tracked);
    this.undo.push(() => (before ? map.set(key, before) : map.delete(key)));
  }

  /** Applies fields to a tracked row with undo; returns true when anything changed. */
  private change(tracked: Tracked, fields: Row): boolean {
    const row = { ...tracked.row };
    const changes = tracked.changes ? { ...tracked.changes } : undefined;
    const changed = apply(tracked, fields);
    if (changed) {
      this.undo.push(() => {
        tracked.row = row;
        tracked.changes = changes;
      });
    }
    return changed;
  }

  private setId(ref: IdentifierRef, entityType: EntityType, entityId: string): void {
    const key = idKey(ref);
    this.ids.set(key, { entityType, entityId });
    this.undo.push(() => this.ids.delete(key));
    this.track('identifier', key, {
      row: { id_type: ref.type, id_value: ref.value, entity_type: entityType, entity_id: entityId },
      isNew: true,
    });
  }

  private resolve(ref: IdentifierRef, entityType: EntityType, label: string): string {
    const found = this.ids.get(idKey(ref));
    if (!found) throw new RowError(`${label}: no record has identifier ${ref.type} ${ref.value}`);
    if (found.entityType !== entityType) {
      throw new RowError(
        `${label}: identifier ${ref.type} ${ref.value} belongs to a ${found.entityType}, not a ${entityType}`,
      );
    }
    return found.entityId;
  }

  private resolveAny(ref: IdentifierRef, label: string): { id: string; entityType: EntityType } {
    const found = this.ids.get(idKey(ref));
    if (!found || found.entityType === 'farm')
      throw new RowError(`${label}: no person or household has identifier ${ref.type} ${ref.value}`);
    return { id: found.entityId, entityType: found.entityType };
  }

  /**
   * Finds the record that a list of identifiers names (or none), checking that they do not name
   * two different records or a record of another kind.
   */
  private match(identifiers: readonly IdentifierRef[], entityType: EntityType): string | undefined {
    let id: string | undefined;
    for (const ref of identifiers) {
      const found = this.ids.get(idKey(ref));
      if (!found) continue;
      if (found.entityType !== entityType) {
        throw new RowError(`identifier ${ref.type} ${ref.value} belongs to a ${found.entityType}, not a ${entityType}`);
      }
      if (id && id !== found.entityId) throw new RowError('identifiers belong to different records');
      id = found.entityId;
    }
    return id;
  }

  private addMissingIds(identifiers: readonly IdentifierRef[], entityType: EntityType, id: string): boolean {
    let added = false;
    for (const ref of identifiers) {
      if (!this.ids.has(idKey(ref))) {
        this.setId(ref, entityType, id);
        added = true;
      }
    }
    return added;
  }

  private areaId(code: string | null | undefined): string | null | undefined {
    if (code === undefined || code === null) return code;
    const area = this.newAreas.get(code) ?? this.areas.get(code);
    if (!area) throw new RowError(`unknown area_code "${code}"`);
    return area.id;
  }

  private programmeId(code: string): string {
    const programme = this.newProgrammes.get(code) ?? this.programmes.get(code);
    if (!programme) throw new RowError(`unknown programme_code "${code}"`);
    return programme.id as string;
  }

  private planArea(r: Extract<CleanRecord, { type: 'area' }>): 'inserted' | 'updated' | 'unchanged' {
    const parent = r.parent_code ? (this.newAreas.get(r.parent_code) ?? this.areas.get(r.parent_code)) : undefined;
    if (r.parent_code && !parent) throw new RowError(`unknown parent_code "${r.parent_code}"`);
    if (r.parent_code === r.code) throw new RowError('an area cannot be its own parent');
    const path = `${parent?.path ?? ''}${r.code}/`;
    const existing = this.tracked.area.get(r.code) ?? this.trackCached('area', r.code, this.areas.get(r.code)?.row);
    const fields = {
      name: r.name,
      level: r.level,
      parent_id: r.parent_code === undefined ? undefined : (parent?.id ?? null),
      path: r.parent_code === undefined ? undefined : path,
    };
    if (existing) {
      if (!this.change(existing, fields)) return 'unchanged';
      this.event(EVENT.update, 'area', existing.row.id as string);
      return 'updated';
    }
    const id = uuid7();
    this.track('area', r.code, {
      row: { id, code: r.code, name: r.name, level: r.level ?? 0, parent_id: parent?.id ?? null, path },
      isNew: true,
    });
    this.newAreas.set(r.code, { id, path, row: {} });
    this.undo.push(() => this.newAreas.delete(r.code));
    this.event(EVENT.register, 'area', id);
    return 'inserted';
  }

  /** Tracks a copy of a cached row (areas, programmes) so that changes can be planned on it. */
  private trackCached(table: Table, key: string, cached: Row | undefined): Tracked | undefined {
    if (!cached) return undefined;
    const tracked: Tracked = { row: { ...cached }, isNew: false };
    this.track(table, key, tracked);
    return tracked;
  }

  private planProgramme(r: Extract<CleanRecord, { type: 'programme' }>): 'inserted' | 'updated' | 'unchanged' {
    const { type: _type, code, ...fields } = r;
    const existing = this.tracked.programme.get(code) ?? this.trackCached('programme', code, this.programmes.get(code));
    if (existing) {
      if (!this.change(existing, fields)) return 'unchanged';
      this.event(EVENT.update, 'programme', existing.row.id as string);
      return 'updated';
    }
    const id = uuid7();
    const row = { id, code, ...nullify(fields) };
    this.track('programme', code, { row, isNew: true });
    this.newProgrammes.set(code, row);
    this.undo.push(() => this.newProgrammes.delete(code));
    this.event(EVENT.register, 'programme', id);
    return 'inserted';
  }

  private individualColumns(f: IndividualFields): Row {
    const { area_code, ...rest } = f;
    return { ...rest, area_id: this.areaId(area_code) };
  }

  private planPerson(p: CleanPerson): { id: string; status: 'inserted' | 'updated' | 'unchanged' } {
    const columns = this.individualColumns(p.fields);
    const existingId = this.match(p.identifiers, 'individual');
    let id: string;
    let status: 'inserted' | 'updated' | 'unchanged';
    if (existingId) {
      id = existingId;
      const tracked = this.tracked.individual.get(id);
      if (!tracked) throw new Error(`individual ${id} was not preloaded`);
      const changed = this.change(tracked, columns);
      const idsAdded = this.addMissingIds(p.identifiers, 'individual', id);
      status = changed || idsAdded ? 'updated' : 'unchanged';
      if (status === 'updated') this.event(EVENT.update, 'individual', id);
    } else {
      id = uuid7();
      this.track('individual', id, {
        row: {
          id,
          ...nullify(columns),
          phones: p.fields.phones ?? [],
          emails: p.fields.emails ?? [],
          extra: p.fields.extra ?? {},
          is_disabled: p.disabilities.some((d) => (d.status ?? 'approved') === 'approved'),
        },
        isNew: true,
      });
      for (const ref of p.identifiers) this.setId(ref, 'individual', id);
      this.event(EVENT.register, 'individual', id);
      status = 'inserted';
    }
    let nested = false;
    for (const d of p.disabilities) nested = this.planDisability(id, d) !== 'unchanged' || nested;
    for (const e of p.enrollments)
      nested = this.planEnrollment({ id, entityType: 'individual' }, e) !== 'unchanged' || nested;
    for (const f of p.farms) nested = this.planFarm(id, f) !== 'unchanged' || nested;
    for (const c of p.consents) nested = this.planConsent(id, c) !== 'unchanged' || nested;
    if (status === 'unchanged' && nested) status = 'updated';
    return { id, status };
  }

  private planHousehold(r: Extract<CleanRecord, { type: 'household' }>): 'inserted' | 'updated' | 'unchanged' {
    const columns: Row = {
      group_type: r.group_type,
      area_id: this.areaId(r.area_code),
      address: r.address,
      poverty_score: r.poverty_score,
      poverty_score_type: r.poverty_score_type,
      registration_date: r.registration_date,
      extra: r.extra,
    };
    const existingId = this.match(r.identifiers, 'household');
    let id: string;
    let status: 'inserted' | 'updated' | 'unchanged';
    if (existingId) {
      id = existingId;
      const tracked = this.tracked.household.get(id);
      if (!tracked) throw new Error(`household ${id} was not preloaded`);
      const changed = this.change(tracked, columns);
      const idsAdded = this.addMissingIds(r.identifiers, 'household', id);
      status = changed || idsAdded ? 'updated' : 'unchanged';
      if (status === 'updated') this.event(EVENT.update, 'household', id);
    } else {
      id = uuid7();
      this.track('household', id, {
        row: {
          id,
          ...nullify(columns),
          group_type: r.group_type ?? 'household',
          extra: r.extra ?? {},
          size: 0,
          head_id: null,
        },
        isNew: true,
      });
      for (const ref of r.identifiers) this.setId(ref, 'household', id);
      this.event(EVENT.register, 'household', id);
      status = 'inserted';
    }
    let nested = false;
    for (const member of r.members) {
      const person = this.planPerson(member);
      const relationship = member.relationship ?? 'other';
      if (this.planMembership(id, person.id, relationship, status === 'inserted')) nested = true;
      if (person.status !== 'unchanged') nested = true;
    }
    for (const e of r.enrollments)
      nested = this.planEnrollment({ id, entityType: 'household' }, e) !== 'unchanged' || nested;
    if (status === 'unchanged' && nested) status = 'updated';
    return status;
  }

  /** Returns true when the membership is new or changed. */
  private planMembership(
    householdId: string,
    individualId: string,
    relationship: string,
    newHousehold: boolean,
  ): boolean {
    const key = `${householdId}|${individualId}`;
    const household = this.tracked.household.get(householdId);
    if (!household) throw new Error(`household ${householdId} was not preloaded`);
    if (relationship === 'head') {
      const currentHead = household.row.head_id as string | null;
      if (currentHead && currentHead !== individualId) {
        const previous = this.tracked.membership.get(`${householdId}|${currentHead}`);
        if (previous) this.change(previous, { relationship: 'other_relative' });
      }
      this.change(household, { head_id: individualId });
    }
    const existing = this.tracked.membership.get(key);
    if (existing) return this.change(existing, { relationship });
    this.track('membership', key, {
      row: { household_id: householdId, individual_id: individualId, relationship, joined_on: null },
      isNew: true,
    });
    this.touchedHouseholds.add(householdId);
    if (household.isNew) {
      household.row.size = (household.row.size as number) + 1;
      this.undo.push(() => (household.row.size = (household.row.size as number) - 1));
    }
    if (!newHousehold)
      this.event(EVENT.newMember, 'household', householdId, { individual_id: individualId, relationship });
    return true;
  }

  private planEnrollment(
    target: { id: string; entityType: EntityType },
    e: CleanEnrollment,
  ): 'inserted' | 'updated' | 'unchanged' {
    const programmeId = this.programmeId(e.programme_code);
    const key = `${programmeId}|${target.id}`;
    const existing = this.tracked.enrollment.get(key);
    const fields = { status: e.status, enrollment_date: e.enrollment_date, status_change_date: e.status_change_date };
    let id: string;
    let status: 'inserted' | 'updated' | 'unchanged';
    if (existing) {
      id = existing.row.id as string;
      const before = existing.row.status;
      status = this.change(existing, fields) ? 'updated' : 'unchanged';
      if (status === 'updated') {
        this.event(before !== existing.row.status ? EVENT.enrollmentStatusChange : EVENT.update, 'enrollment', id, {
          programme_id: programmeId,
          beneficiary_id: target.id,
          status: existing.row.status,
        });
      }
    } else {
      id = uuid7();
      this.track('enrollment', key, {
        row: {
          id,
          programme_id: programmeId,
          individual_id: target.entityType === 'individual' ? target.id : null,
          household_id: target.entityType === 'household' ? target.id : null,
          ...nullify(fields),
          status: e.status ?? 'active',
        },
        isNew: true,
      });
      this.event(EVENT.enrollment, 'enrollment', id, {
        programme_id: programmeId,
        beneficiary_id: target.id,
        status: e.status ?? 'active',
      });
      status = 'inserted';
    }
    for (const b of e.benefits) {
      if (this.planBenefit(id, b) && status === 'unchanged') status = 'updated';
    }
    return status;
  }

  private planBenefit(enrollmentId: string, b: CleanBenefit): boolean {
    const key = `${enrollmentId}|${b.benefit_date}|${b.benefit_type}`;
    const existing = this.tracked.benefit.get(key);
    const { benefit_type: _t, benefit_date: _d, ...fields } = b;
    if (existing) return this.change(existing, fields);
    this.track('benefit', key, { row: { id: uuid7(), enrollment_id: enrollmentId, ...nullify(b) }, isNew: true });
    return true;
  }

  private planDisability(individualId: string, d: CleanDisability): 'inserted' | 'updated' | 'unchanged' {
    const key = `${individualId}|${d.disability_type}`;
    const existing = this.tracked.disability.get(key);
    const { disability_type: _t, ...fields } = d;
    const individual = this.tracked.individual.get(individualId);
    if (existing) {
      if (!this.change(existing, fields)) return 'unchanged';
      this.event(EVENT.update, 'disability', existing.row.id as string, { individual_id: individualId });
      if (individual && !individual.isNew) this.touchedDisabled.add(individualId);
      return 'updated';
    }
    const id = uuid7();
    this.track('disability', key, {
      row: { id, individual_id: individualId, ...nullify(d), status: d.status ?? 'approved' },
      isNew: true,
    });
    this.event(EVENT.register, 'disability', id, { individual_id: individualId });
    if (individual?.isNew) {
      if ((d.status ?? 'approved') === 'approved') individual.row.is_disabled = true;
    } else {
      this.touchedDisabled.add(individualId);
    }
    return 'inserted';
  }

  private planFarm(farmerId: string, f: CleanFarm): 'inserted' | 'updated' | 'unchanged' {
    const { identifiers, area_code, ...rest } = f;
    const fields: Row = { ...rest, area_id: this.areaId(area_code), farmer_id: farmerId };
    const existingId = identifiers.length ? this.match(identifiers, 'farm') : undefined;
    if (existingId) {
      const tracked = this.tracked.farm.get(existingId);
      if (!tracked) throw new Error(`farm ${existingId} was not preloaded`);
      const changed = this.change(tracked, fields);
      const idsAdded = this.addMissingIds(identifiers, 'farm', existingId);
      if (!changed && !idsAdded) return 'unchanged';
      this.event(EVENT.update, 'farm', existingId, { farmer_id: farmerId });
      return 'updated';
    }
    const id = uuid7();
    this.track('farm', id, {
      row: {
        id,
        ...nullify(fields),
        measurement_unit: f.measurement_unit ?? 'hectare',
        crop_types: f.crop_types ?? [],
        livestock: f.livestock ?? [],
      },
      isNew: true,
    });
    for (const ref of identifiers) this.setId(ref, 'farm', id);
    this.event(EVENT.register, 'farm', id, { farmer_id: farmerId });
    return 'inserted';
  }

  private planConsent(individualId: string, c: CleanConsent): 'inserted' | 'updated' | 'unchanged' {
    const key = `${individualId}|${c.sender_id}|${c.purpose}`;
    const existing = this.tracked.consent.get(key);
    const fields = { given_at: c.given_at, expires_at: c.expires_at, revoked_at: c.revoked_at };
    if (existing) {
      if (!this.change(existing, fields)) return 'unchanged';
      this.event(EVENT.update, 'consent', existing.row.id as string, {
        individual_id: individualId,
        sender_id: c.sender_id,
      });
      return 'updated';
    }
    const id = uuid7();
    this.track('consent', key, { row: { id, individual_id: individualId, ...nullify(c) }, isNew: true });
    this.event(EVENT.register, 'consent', id, { individual_id: individualId, sender_id: c.sender_id });
    return 'inserted';
  }

  private planVitalEvent(r: Extract<CleanRecord, { type: 'vital_event' }>): 'inserted' | 'updated' | 'unchanged' {
    const person = (ref: IdentifierRef | null | undefined, label: string) =>
      ref === undefined || ref === null ? ref : this.resolve(ref, 'individual', label);
    const fields: Row = {
      event_type: r.event_type,
      event_date: r.event_date,
      subject_id: person(r.subject, 'subject'),
      partner_id: person(r.partner, 'partner'),
      parent1_id: person(r.parent1, 'parent1'),
      parent2_id: person(r.parent2, 'parent2'),
      place: r.place,
      area_id: this.areaId(r.area_code),
      registration_date: r.registration_date,
    };
    const existing = this.tracked.vital_event.get(r.registration_number);
    let status: 'inserted' | 'updated' | 'unchanged';
    let id: string;
    if (existing) {
      id = existing.row.id as string;
      if (existing.row.event_type !== r.event_type) {
        throw new RowError(
          `registration_number ${r.registration_number} is already a ${String(existing.row.event_type)} event`,
        );
      }
      status = this.change(existing, fields) ? 'updated' : 'unchanged';
      if (status === 'updated') this.event(EVENT.update, 'vital_event', id, { event_type: r.event_type });
    } else {
      id = uuid7();
      this.track('vital_event', r.registration_number, {
        row: { id, registration_number: r.registration_number, ...nullify(fields) },
        isNew: true,
      });
      this.event(VITAL_EVENT_NAMES[r.event_type] ?? EVENT.register, 'vital_event', id, {
        event_type: r.event_type,
        subject_id: fields.subject_id ?? null,
      });
      status = 'inserted';
    }
    // A registered death is also the subject's death date.
    if (r.event_type === 'death' && typeof fields.subject_id === 'string') {
      const subject = this.tracked.individual.get(fields.subject_id);
      if (subject && this.change(subject, { death_date: r.event_date }) && !subject.isNew) {
        this.event(EVENT.update, 'individual', fields.subject_id);
      }
    }
    return status;
  }

  // --- writing ------------------------------------------------------------------------------

  async flush(db: Kysely<DB>, bulk: BulkInsert, onEvents: EventHook): Promise<void> {
    const exec = db as unknown as Kysely<unknown>;
    for (const table of INSERT_ORDER) {
      const rows: Row[] = [];
      for (const t of this.tracked[table].values()) if (t.isNew) rows.push(t.row);
      // Identifier values are random: in key order their B-tree inserts walk the index once.
      if (table === 'identifier') rows.sort((a, b) => compareKeys(a, b));
      if (rows.length) await bulk(exec, table, spec(table), rows);
    }
    for (const table of INSERT_ORDER) {
      for (const t of this.tracked[table].values()) {
        if (t.isNew || !t.changes) continue;
        await this.update(db, table, t);
      }
    }
    const existingTouched = [...this.touchedHouseholds].filter((id) => !this.tracked.household.get(id)?.isNew);
    if (existingTouched.length) {
      await sql`update household h set size = (select count(*) from membership m where m.household_id = h.id) where h.id = any(${existingTouched}::uuid[])`.execute(
        db,
      );
    }
    if (this.touchedDisabled.size) {
      await sql`update individual i set is_disabled = exists (select 1 from disability d where d.individual_id = i.id and d.status = 'approved') where i.id = any(${[...this.touchedDisabled]}::uuid[])`.execute(
        db,
      );
    }
    if (this.events.length) {
      const batchId = uuid7();
      for (const event of this.events) event.batch_id = batchId;
      await bulk(exec, 'registry_event', spec('registry_event'), this.events as unknown as Row[]);
      await onEvents(db, batchId);
    }
  }

  private async update(db: Kysely<DB>, table: Table, t: Tracked): Promise<void> {
    const changes: Row = {};
    for (const [key, value] of Object.entries(t.changes!)) {
      changes[key] =
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? JSON.stringify(value)
          : key === 'livestock'
            ? JSON.stringify(value)
            : value;
    }
    const set = VERSIONED.has(table) ? { ...changes, version: sql`version + 1`, updated_at: sql`now()` } : changes;
    let query = db.updateTable(table as never).set(set as never);
    if (table === 'membership') {
      query = query
        .where('household_id' as never, '=', t.row.household_id as never)
        .where('individual_id' as never, '=', t.row.individual_id as never);
    } else {
      query = query.where('id' as never, '=', t.row.id as never);
    }
    await query.execute();
  }

  /** After a successful flush, new areas/programmes join the writer's caches. */
  commitCaches(): void {
    for (const t of this.tracked.area.values()) {
      this.areas.set(t.row.code as string, { id: t.row.id as string, path: t.row.path as string, row: t.row });
    }
    for (const t of this.tracked.programme.values()) this.programmes.set(t.row.code as string, t.row);
  }
}

/** Undefined (not given) becomes null for a new row. */
function nullify(fields: object): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value === undefined ? null : value;
  return out;
}
