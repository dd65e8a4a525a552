/**
 * The searchable vocabulary: per domain, the record types a search may ask for and, per record
 * type, the allow-list of attributes (contract §7, documented in `docs/search.md`). An attribute
 * has a type, the operators it takes, how a caller's value is coerced, how it compiles to SQL over
 * fixed table aliases, whether it sorts, and the index that serves it.
 *
 * Table aliases: `i` individual, `h` household; inside the per-row scopes `e` enrollment with
 * `p` programme (IBR), `d` disability (DR), `f` farm (FR). A person-level record (SR `Member`,
 * CRVS `Person`) is one `individual` row; a group one `household` row. An IBR `Beneficiary` is a
 * person (or household) with at least one enrollment, DR `DisabledPerson` a person with at least
 * one disability assessment, FR `Farmer` a person with at least one farm; their row attributes
 * (programme, status, disability type, crop…) are evaluated *together on one row*: a person
 * matches when one of their enrollments / assessments / farms satisfies the whole query.
 */
import { sql } from 'kysely';
import type { CmpOp } from '@opendci/protocol';
import type { Domain } from '../config.js';
import {
  FALSE,
  TRUE,
  and,
  compare,
  invalid,
  not,
  or,
  param,
  shown,
  type Cast,
  type CompareOp,
  type Condition,
  type Scalar,
  type Sql,
} from './sql.js';

export type AttributeType = 'string' | 'date' | 'number' | 'boolean' | 'code';
export type RecordKind = 'individual' | 'household';
export type RowScope = 'none' | 'enrollment' | 'disability' | 'farm';

export interface CompileContext {
  /** Today's date (`YYYY-MM-DD`), for `age`. */
  today: string;
}

/** How one attribute compiles, once its value is coerced. `ne`, `nin` and `exists: false` are negations. */
interface Builder {
  compare(op: CompareOp, value: Scalar, ctx: CompileContext): Condition;
  in(values: Scalar[], ctx: CompileContext): Condition;
  exists(ctx: CompileContext): Condition;
}

export interface Attribute {
  /** The canonical name. */
  readonly name: string;
  /** Further accepted names (lower case; dotted response-shape paths included). */
  readonly aliases: readonly string[];
  readonly type: AttributeType;
  readonly operators: readonly CmpOp[];
  /** The index that serves the condition, or null when it is evaluated by a scan. */
  readonly index: string | null;
  readonly description: string;
  /** The accepted values of a closed code list (docs). */
  readonly values?: readonly string[];
  readonly sortable: boolean;
  /** The condition for `op value` (value as parsed; coerced here). Throws `QueryError`. */
  condition(op: CmpOp, value: unknown, ctx: CompileContext): Condition;
  /** The ORDER BY term for this attribute (only when `sortable`). */
  orderBy(order: 'asc' | 'desc'): Sql;
}

// ---------------------------------------------------------------------------------------------
// coercion: caller values (strings from predicates, numbers, booleans) → typed values

type Coerce = (value: unknown, attribute: string) => Scalar;

function bad(value: unknown, attribute: string, what: string): never {
  invalid(`${shown(value)} is not ${what} (attribute ${attribute})`);
}

const NUMBER_TEXT = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

export const coerceNumber: Coerce = (value, attribute) => {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && NUMBER_TEXT.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) bad(value, attribute, 'a number');
  return n;
};

export const coerceBoolean: Coerce = (value, attribute) => {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
  }
  return bad(value, attribute, 'a boolean (true or false)');
};

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD`, an ISO date-time (cut to its date) or `DD.MM.YYYY` → `YYYY-MM-DD`. */
export const coerceDate: Coerce = (value, attribute) => {
  if (typeof value === 'string') {
    const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(
      value.trim(),
    );
    const dotted = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(value.trim());
    const [y, m, d] = iso
      ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
      : dotted
        ? [Number(dotted[3]), Number(dotted[2]), Number(dotted[1])]
        : [0, 0, 0];
    if (validDate(y, m, d)) return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
  }
  return bad(value, attribute, 'a date (YYYY-MM-DD)');
};

export const coerceString: Coerce = (value, attribute) => {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') bad(value, attribute, 'a string');
  if (value.length > 500) invalid(`the value for ${attribute} is longer than 500 characters`);
  return value;
};

/** An open code list: any non-empty code, compared lower-cased (the registry stores them so). */
const coerceOpenCode: Coerce = (value, attribute) => {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || text.trim() === '' || text.length > 100) bad(value, attribute, 'a code');
  return text.trim().toLowerCase();
};

/** A closed code list with its accepted spellings (keys lower case) → the stored code. */
function closedCode(spellings: Readonly<Record<string, string>>): Coerce {
  return (value, attribute) => {
    const key = typeof value === 'number' || typeof value === 'string' ? String(value).trim().toLowerCase() : undefined;
    const code = key === undefined ? undefined : spellings[key];
    if (code === undefined) bad(value, attribute, `one of ${[...new Set(Object.values(spellings))].join(', ')}`);
    return code;
  };
}

const SEX = closedCode({ male: 'male', female: 'female', other: 'other', unknown: 'unknown', m: 'male', f: 'female' });
const MARITAL = closedCode({
  s: 'S',
  m: 'M',
  w: 'W',
  a: 'A',
  d: 'D',
  l: 'L',
  u: 'U',
  single: 'S',
  never_married: 'S',
  married: 'M',
  widowed: 'W',
  widow: 'W',
  annulled: 'A',
  divorced: 'D',
  separated: 'L',
  legally_separated: 'L',
  unmarried: 'U',
});
const GROUP_TYPE = closedCode({
  household: 'household',
  family: 'family',
  member: 'member',
  '1': 'member',
  '2': 'household',
  '3': 'family',
});
const ENROLLMENT_STATUS = closedCode({
  active: 'active',
  deceased: 'deceased',
  graduated: 'graduated',
  suspended: 'suspended',
  '1': 'active',
  '2': 'deceased',
  '3': 'graduated',
  '4': 'suspended',
});
const DISABILITY_STATUS = closedCode({
  approved: 'approved',
  pending: 'pending',
  expired: 'expired',
  '0': 'approved',
  '1': 'pending',
  '2': 'expired',
});
const EVENT_TYPE = (() => {
  const map: Record<string, string> = {
    live_birth: 'live_birth',
    livebirth: 'live_birth',
    birth: 'live_birth',
    death: 'death',
    fetal_death: 'fetal_death',
    fetaldeath: 'fetal_death',
    marriage: 'marriage',
    divorce: 'divorce',
    adoption: 'adoption',
  };
  const inner = closedCode(map);
  return ((value, attribute) =>
    inner(
      typeof value === 'string' ? value.replace(/^spdci-common:RegistryEventType:/i, '') : value,
      attribute,
    )) as Coerce;
})();

// ---------------------------------------------------------------------------------------------
// builders

/** A scalar column (or expression) compared with typed parameters. */
function column(expr: Sql, cast: Cast, options: { notNull?: boolean } = {}): Builder {
  const nullable = !options.notNull;
  return {
    compare: (op, value) => ({ sql: compare(expr, op, param(value, cast)), nullable }),
    in: (values) =>
      values.length === 0
        ? FALSE
        : {
            sql: sql`${expr} in (${sql.join(values.map((v) => param(v, cast)))})`,
            nullable,
          },
    exists: () => (options.notNull ? TRUE : { sql: sql`${expr} is not null`, nullable: false }),
  };
}

/**
 * An integer column: a fractional bound is moved to the integer it means (`size > 2.5` is
 * `size >= 3`), so that the parameter keeps the column's type and its index is used.
 */
function integerColumn(expr: Sql, options: { notNull?: boolean } = {}): Builder {
  const base = column(expr, 'integer', options);
  return {
    compare: (op, value, ctx) => {
      const n = value as number;
      if (Math.abs(n) > 2_000_000_000) invalid(`${n} is out of range`);
      if (Number.isInteger(n)) return base.compare(op, n, ctx);
      switch (op) {
        case 'eq':
          return FALSE;
        case 'gt':
        case 'gte':
          return base.compare('gte', Math.ceil(n), ctx);
        case 'lt':
        case 'lte':
          return base.compare('lte', Math.floor(n), ctx);
      }
    },
    in: (values, ctx) =>
      base.in(
        values.filter((v) => Number.isInteger(v)),
        ctx,
      ),
    exists: (ctx) => base.exists(ctx),
  };
}

/** A boolean column or expression: `true` / `false` select a constant fragment, no parameter. */
function booleanOf(whenTrue: Sql, whenFalse: Sql, notNull: boolean): Builder {
  const nullable = !notNull;
  return {
    compare: (_op, value) => ({ sql: value ? whenTrue : whenFalse, nullable }),
    in: (values) => or([...new Set(values)].map((v) => ({ sql: v ? whenTrue : whenFalse, nullable }))),
    exists: () => TRUE,
  };
}

/** `date - years`, clamped to the month's end (29 February → 28 February), as PostgreSQL does. */
export function yearsBefore(today: string, years: number): string {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const year = y - years;
  if (year < 1) return '0001-01-01';
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return `${pad(year, 4)}-${pad(m)}-${pad(Math.min(d, last))}`;
}

/**
 * `age` (whole years at `today`) as `birth_date` ranges: age ≥ n ⇔ birth_date ≤ today − n years;
 * age ≤ n ⇔ birth_date > today − (n+1) years. Uses the birth-date index.
 */
function ageBuilder(birth: Sql): Builder {
  const atLeast = (n: number, ctx: CompileContext): Condition =>
    n <= 0
      ? { sql: sql`${birth} is not null`, nullable: false }
      : { sql: compare(birth, 'lte', param(yearsBefore(ctx.today, n), 'date')), nullable: true };
  const atMost = (n: number, ctx: CompileContext): Condition =>
    n < 0 ? FALSE : { sql: compare(birth, 'gt', param(yearsBefore(ctx.today, n + 1), 'date')), nullable: true };
  const exactly = (n: number, ctx: CompileContext): Condition =>
    !Number.isInteger(n) || n < 0 ? FALSE : and([atLeast(n, ctx), atMost(n, ctx)]);
  return {
    compare: (op, value, ctx) => {
      const n = value as number;
      switch (op) {
        case 'eq':
          return exactly(n, ctx);
        case 'gt':
          return atLeast(Math.floor(n) + 1, ctx);
        case 'gte':
          return atLeast(Math.ceil(n), ctx);
        case 'lt':
          return atMost(Math.ceil(n) - 1, ctx);
        case 'lte':
          return atMost(Math.floor(n), ctx);
      }
    },
    in: (values, ctx) => or(values.map((v) => exactly(v as number, ctx))),
    exists: () => ({ sql: sql`${birth} is not null`, nullable: false }),
  };
}

/**
 * An area code matches the area and every area below it: the areas whose `path` starts with the
 * named area's path (`KL/KL-01/` → `KL/KL-01/%`, with LIKE's `%` and `_` escaped).
 */
function areaBuilder(areaId: Sql): Builder {
  const within = (codes: Scalar[]): Condition =>
    codes.length === 0
      ? FALSE
      : {
          sql: sql`${areaId} in (select s.id from area a join area s on s.path like replace(replace(replace(a.path, '!', '!!'), '%', '!%'), '_', '!_') || '%' escape '!' where a.code in (${sql.join(
            codes.map((c) => param(c, 'text')),
          )}))`,
          nullable: true,
        };
  return {
    compare: (_op, value) => within([value]),
    in: (values) => within(values),
    exists: () => ({ sql: sql`${areaId} is not null`, nullable: false }),
  };
}

/** Who may hold an identifier in a record type: the record itself, and for farmers their farms. */
export interface IdentifierHolder {
  id: Sql;
  entity: 'individual' | 'household' | 'farm';
}

function identifierMatch(holders: readonly IdentifierHolder[], type: string | undefined, values: Scalar[]): Condition {
  if (values.length === 0) return FALSE;
  const valueSql =
    values.length === 1
      ? sql`x.id_value = ${param(values[0]!, 'text')}`
      : sql`x.id_value in (${sql.join(values.map((v) => param(v, 'text')))})`;
  const typeSql = type === undefined ? sql`true` : sql`x.id_type = ${param(type, 'text')}`;
  return or(
    holders.map((h) => ({
      sql: sql`${h.id} in (select x.entity_id from identifier x where x.entity_type = ${param(h.entity, 'text')} and ${typeSql} and ${valueSql})`,
      nullable: false,
    })),
  );
}

function identifierBuilder(holders: readonly IdentifierHolder[], type: string | undefined): Builder {
  return {
    compare: (_op, value) => identifierMatch(holders, type, [value]),
    in: (values) => identifierMatch(holders, type, values),
    exists: () =>
      or(
        holders.map((h) => ({
          sql: sql`${h.id} in (select x.entity_id from identifier x where x.entity_type = ${param(h.entity, 'text')} and ${type === undefined ? sql`true` : sql`x.id_type = ${param(type, 'text')}`})`,
          nullable: false,
        })),
      ),
  };
}

/** CRVS: the person was the subject or the partner of a vital event of that type. */
function eventTypeBuilder(): Builder {
  const involved = (types: Scalar[] | undefined): Condition => {
    const filter =
      types === undefined ? sql`true` : sql`v.event_type in (${sql.join(types.map((t) => param(t, 'text')))})`;
    return {
      sql: sql`i.id in (select v.subject_id from vital_event v where v.subject_id is not null and ${filter} union all select v.partner_id from vital_event v where v.partner_id is not null and ${filter})`,
      nullable: false,
    };
  };
  return {
    compare: (_op, value) => involved([value]),
    in: (values) => (values.length === 0 ? FALSE : involved(values)),
    exists: () => involved(undefined),
  };
}

/** CRVS: the place recorded on the person's live-birth event (case-insensitive). */
function placeOfBirthBuilder(): Builder {
  const born = (where: Sql): Condition => ({
    sql: sql`i.id in (select v.subject_id from vital_event v where v.event_type = 'live_birth' and v.subject_id is not null and ${where})`,
    nullable: false,
  });
  return {
    compare: (_op, value) => born(sql`lower(v.place) = ${param(value, 'ci')}`),
    in: (values) =>
      values.length === 0 ? FALSE : born(sql`lower(v.place) in (${sql.join(values.map((v) => param(v, 'ci')))})`),
    exists: () => born(sql`v.place is not null`),
  };
}

/** FR: a value of a text[] column (`crop_types`), served by its GIN index. */
function arrayBuilder(expr: Sql): Builder {
  return {
    compare: (_op, value) => ({ sql: sql`${expr} @> array[${param(value, 'text')}]`, nullable: false }),
    in: (values) =>
      values.length === 0
        ? FALSE
        : { sql: sql`${expr} && array[${sql.join(values.map((v) => param(v, 'text')))}]`, nullable: false },
    exists: () => ({ sql: sql`cardinality(${expr}) > 0`, nullable: false }),
  };
}

/** FR: a livestock type present on the farm (`[{type, count}]` JSONB), served by its GIN index. */
function livestockBuilder(expr: Sql): Builder {
  const has = (value: Scalar): Condition => ({
    sql: sql`${expr} @> ${JSON.stringify([{ type: value }])}::jsonb`,
    nullable: false,
  });
  return {
    compare: (_op, value) => has(value),
    in: (values) => or(values.map(has)),
    exists: () => ({ sql: sql`jsonb_array_length(${expr}) > 0`, nullable: false }),
  };
}

// ---------------------------------------------------------------------------------------------
// attributes

const EQUALITY: readonly CmpOp[] = ['eq', 'ne', 'in', 'nin', 'exists'];
const ORDERED: readonly CmpOp[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists'];
const BOOLEAN: readonly CmpOp[] = ['eq', 'ne', 'exists'];

const OPERATORS: Record<AttributeType, readonly CmpOp[]> = {
  string: EQUALITY,
  code: EQUALITY,
  date: ORDERED,
  number: ORDERED,
  boolean: BOOLEAN,
};

const COERCE: Record<AttributeType, Coerce> = {
  string: coerceString,
  code: coerceOpenCode,
  date: coerceDate,
  number: coerceNumber,
  boolean: coerceBoolean,
};

/** Sort term: text sorts in the C collation so that both backends order alike; NULLs last. */
function orderTerm(expr: Sql, order: 'asc' | 'desc', text: boolean): Sql {
  const e = text ? sql`${expr} collate "C"` : expr;
  return order === 'asc' ? sql`${e} asc nulls last` : sql`${e} desc nulls last`;
}

interface AttributeSpec {
  name: string;
  aliases?: readonly string[];
  type: AttributeType;
  operators?: readonly CmpOp[];
  index: string | null;
  description: string;
  values?: readonly string[];
  coerce?: Coerce;
  build: Builder;
  /** The sort expression (absent: not sortable); `flip` reverses the direction (age). */
  sort?: { expr: Sql; text?: boolean; flip?: boolean };
}

function attribute(spec: AttributeSpec): Attribute {
  const operators = spec.operators ?? OPERATORS[spec.type];
  const coerce = spec.coerce ?? COERCE[spec.type];
  const { build, sort } = spec;
  return {
    name: spec.name,
    aliases: spec.aliases ?? [],
    type: spec.type,
    operators,
    index: spec.index,
    description: spec.description,
    ...(spec.values ? { values: spec.values } : {}),
    sortable: sort !== undefined,
    condition(op, value, ctx) {
      if (!operators.includes(op))
        invalid(`operator ${op} is not allowed on ${spec.name} (allowed: ${operators.join(', ')})`);
      switch (op) {
        case 'exists':
          return value === false ? not(build.exists(ctx)) : build.exists(ctx);
        case 'in':
        case 'nin': {
          if (!Array.isArray(value)) invalid(`${op} on ${spec.name} needs a list of values`);
          const c = build.in(
            value.map((v) => coerce(v, spec.name)),
            ctx,
          );
          return op === 'in' ? c : not(c);
        }
        case 'ne':
          return value === null ? build.exists(ctx) : not(build.compare('eq', coerce(value, spec.name), ctx));
        case 'eq':
          return value === null ? not(build.exists(ctx)) : build.compare('eq', coerce(value, spec.name), ctx);
        default:
          if (value === null) invalid(`${op} on ${spec.name} needs a value`);
          return build.compare(op, coerce(value, spec.name), ctx);
      }
    },
    orderBy(order) {
      if (!sort) invalid(`${spec.name} is not sortable`);
      const o = sort.flip ? (order === 'asc' ? 'desc' : 'asc') : order;
      return orderTerm(sort.expr, o, sort.text ?? false);
    },
  };
}

function identifierAttribute(holders: readonly IdentifierHolder[], type?: string): Attribute {
  const name = type === undefined ? 'identifier' : `identifier.${type}`;
  const holder = holders[0]!;
  return attribute({
    name,
    aliases: [],
    type: 'string',
    index: type === undefined ? null : 'identifier_pkey',
    description:
      type === undefined ? 'any identifier value of the record (any type)' : `the record's ${type} identifier`,
    build: identifierBuilder(holders, type),
    ...(type === undefined
      ? {}
      : {
          sort: {
            expr: sql`(select min(x.id_value) from identifier x where x.entity_id = ${holder.id} and x.id_type = ${param(type, 'text')})`,
            text: true,
          },
        }),
  });
}

/** Identifier types that may be named directly as attributes (`{"UIN": "…"}`), besides `identifier.TYPE`. */
export const WELL_KNOWN_IDENTIFIER_TYPES = [
  'UIN',
  'NID',
  'NIN',
  'BRN',
  'MRN',
  'DRN',
  'HHID',
  'HOUSEHOLD_ID',
  'FARMER_ID',
  'FARM',
  'FARM_REG_NO',
  'BIRTH_REG_NO',
  'DEATH_REG_NO',
  'MARRIAGE_REG_NO',
] as const;

const AREA_ALIASES = [
  'location',
  'area_code',
  'region_code',
  'sub_region_code',
  'address.region_code',
  'address.sub_region_code',
];

function personAttributes(): Attribute[] {
  return [
    attribute({
      name: 'sex',
      aliases: ['gender'],
      type: 'code',
      values: ['male', 'female', 'other', 'unknown'],
      coerce: SEX,
      index: 'individual_sex_birth_idx',
      description: 'sex (m/f accepted)',
      build: column(sql`i.sex`, 'text'),
      sort: { expr: sql`i.sex`, text: true },
    }),
    attribute({
      name: 'birth_date',
      aliases: ['date_of_birth', 'birthdate', 'dob'],
      type: 'date',
      index: 'individual_birth_idx',
      description: 'date of birth',
      build: column(sql`i.birth_date`, 'date'),
      sort: { expr: sql`i.birth_date` },
    }),
    attribute({
      name: 'age',
      type: 'number',
      index: 'individual_birth_idx',
      description: 'age in whole years today, searched as birth_date ranges',
      coerce: (value, name) => {
        const n = coerceNumber(value, name) as number;
        if (n < 0 || n > 200) invalid(`age ${n} is out of range (0-200)`);
        return n;
      },
      build: ageBuilder(sql`i.birth_date`),
      sort: { expr: sql`i.birth_date`, flip: true },
    }),
    attribute({
      name: 'death_date',
      aliases: ['date_of_death', 'deathdate'],
      type: 'date',
      index: null,
      description: 'date of death',
      build: column(sql`i.death_date`, 'date'),
      sort: { expr: sql`i.death_date` },
    }),
    attribute({
      name: 'is_alive',
      type: 'boolean',
      index: null,
      description: 'no date of death is recorded',
      build: booleanOf(sql`i.death_date is null`, sql`i.death_date is not null`, true),
    }),
    attribute({
      name: 'marital_status',
      aliases: ['civil_status'],
      type: 'code',
      values: ['S', 'M', 'W', 'A', 'D', 'L', 'U'],
      coerce: MARITAL,
      index: 'individual_marital_idx',
      description:
        'DCI marital status code (single, married, widowed, annulled, divorced, separated, unmarried accepted)',
      build: column(sql`i.marital_status`, 'text'),
      sort: { expr: sql`i.marital_status`, text: true },
    }),
    attribute({
      name: 'area',
      aliases: AREA_ALIASES,
      type: 'code',
      index: 'individual_area_idx',
      description: 'area code; matches the area and all its sub-areas',
      coerce: coerceString,
      build: areaBuilder(sql`i.area_id`),
    }),
    attribute({
      name: 'registration_date',
      type: 'date',
      index: 'individual_registration_idx',
      description: 'date of registration',
      build: column(sql`i.registration_date`, 'date'),
      sort: { expr: sql`i.registration_date` },
    }),
    attribute({
      name: 'is_disabled',
      aliases: ['disabled'],
      type: 'boolean',
      index: 'individual_disabled_idx',
      description: 'has an approved disability',
      build: booleanOf(sql`i.is_disabled`, sql`not i.is_disabled`, true),
    }),
    attribute({
      name: 'given_name',
      aliases: ['first_name', 'name.given_name', 'name.first_name'],
      type: 'string',
      index: 'individual_given_name_idx',
      description: 'given name, case-insensitive',
      build: column(sql`lower(i.given_name)`, 'ci'),
      sort: { expr: sql`lower(i.given_name)`, text: true },
    }),
    attribute({
      name: 'surname',
      aliases: [
        'family_name',
        'last_name',
        'sur_name',
        'name.surname',
        'name.sur_name',
        'name.last_name',
        'name.family_name',
      ],
      type: 'string',
      index: 'individual_surname_idx',
      description: 'surname, case-insensitive',
      build: column(sql`lower(i.surname)`, 'ci'),
      sort: { expr: sql`lower(i.surname)`, text: true },
    }),
  ];
}

function groupAttributes(): Attribute[] {
  return [
    attribute({
      name: 'group_type',
      type: 'code',
      values: ['household', 'family', 'member'],
      coerce: GROUP_TYPE,
      index: 'household_type_idx',
      description: 'household, family or member (DCI codes 2, 3, 1 accepted)',
      build: column(sql`h.group_type`, 'text', { notNull: true }),
      sort: { expr: sql`h.group_type`, text: true },
    }),
    attribute({
      name: 'group_size',
      aliases: ['size', 'household_size', 'member_count'],
      type: 'number',
      index: 'household_size_idx',
      description: 'number of members',
      build: integerColumn(sql`h.size`, { notNull: true }),
      sort: { expr: sql`h.size` },
    }),
    attribute({
      name: 'poverty_score',
      type: 'number',
      index: 'household_poverty_idx',
      description: 'poverty score (0-100)',
      build: column(sql`h.poverty_score`, 'numeric'),
      sort: { expr: sql`h.poverty_score` },
    }),
    attribute({
      name: 'poverty_score_type',
      type: 'string',
      index: null,
      description: 'how the poverty score was computed (e.g. PMT)',
      build: column(sql`h.poverty_score_type`, 'text'),
      sort: { expr: sql`h.poverty_score_type`, text: true },
    }),
    attribute({
      name: 'area',
      aliases: AREA_ALIASES,
      type: 'code',
      index: 'household_area_idx',
      description: 'area code; matches the area and all its sub-areas',
      coerce: coerceString,
      build: areaBuilder(sql`h.area_id`),
    }),
    attribute({
      name: 'registration_date',
      type: 'date',
      index: 'household_registration_idx',
      description: 'date of registration',
      build: column(sql`h.registration_date`, 'date'),
      sort: { expr: sql`h.registration_date` },
    }),
  ];
}

function crvsAttributes(): Attribute[] {
  return [
    attribute({
      name: 'place_of_birth',
      aliases: ['birth_place', 'birthplace', 'birth_place.name', 'place_of_birth.name'],
      type: 'string',
      index: 'vital_event_type_date_idx',
      description: 'place of the live-birth event, case-insensitive',
      build: placeOfBirthBuilder(),
    }),
    attribute({
      name: 'event_type',
      aliases: ['vital_event', 'vital_event_type'],
      type: 'code',
      values: ['live_birth', 'death', 'fetal_death', 'marriage', 'divorce', 'adoption'],
      coerce: EVENT_TYPE,
      index: 'vital_event_type_date_idx',
      description: 'a vital event the person is the subject or partner of (LiveBirth, birth accepted)',
      build: eventTypeBuilder(),
    }),
  ];
}

function enrollmentAttributes(beneficiary: Sql): Attribute[] {
  return [
    attribute({
      name: 'programme',
      aliases: [
        'programme_code',
        'program',
        'program_code',
        'programme_identifier',
        'programme_identifier.programme_identifier',
        'programme.programme_identifier',
        'programme_identifier.programme.programme_identifier',
      ],
      type: 'code',
      coerce: coerceString,
      index: 'enrollment_status_idx',
      description: 'programme code, case-insensitive',
      build: column(sql`lower(p.code)`, 'ci', { notNull: true }),
    }),
    attribute({
      name: 'enrollment_status',
      aliases: ['enrolment_status'],
      type: 'code',
      values: ['active', 'deceased', 'graduated', 'suspended'],
      coerce: ENROLLMENT_STATUS,
      index: 'enrollment_status_idx',
      description: 'status of the enrollment (DCI codes 1-4 accepted)',
      build: column(sql`e.status`, 'text', { notNull: true }),
    }),
    attribute({
      name: 'enrollment_date',
      aliases: ['enrolment_date'],
      type: 'date',
      index: 'enrollment_date_idx',
      description: 'date of enrollment; sorts by the earliest enrollment',
      build: column(sql`e.enrollment_date`, 'date'),
      sort: { expr: sql`(select min(e2.enrollment_date) from enrollment e2 where e2.beneficiary_id = ${beneficiary})` },
    }),
    attribute({
      name: 'status_change_date',
      type: 'date',
      index: null,
      description: 'date of the last status change of the enrollment',
      build: column(sql`e.status_change_date`, 'date'),
    }),
  ];
}

function disabilityAttributes(): Attribute[] {
  return [
    attribute({
      name: 'disability_type',
      aliases: ['impairment_type', 'disability_limitation_type'],
      type: 'code',
      index: 'disability_type_idx',
      description: 'visual, hearing, physical, intellectual, psychosocial, speech, multiple, or another code',
      build: column(sql`d.disability_type`, 'text', { notNull: true }),
    }),
    attribute({
      name: 'functional_severity',
      aliases: ['severity'],
      type: 'number',
      index: 'disability_type_idx',
      description: '1 no difficulty … 4 cannot do at all; sorts by the highest',
      build: integerColumn(sql`d.functional_severity`),
      sort: { expr: sql`(select max(d2.functional_severity) from disability d2 where d2.individual_id = i.id)` },
    }),
    attribute({
      name: 'disability_status',
      type: 'code',
      values: ['approved', 'pending', 'expired'],
      coerce: DISABILITY_STATUS,
      index: null,
      description: 'status of the assessment (DCI codes 0-2 accepted)',
      build: column(sql`d.status`, 'text', { notNull: true }),
    }),
    attribute({
      name: 'support_level',
      aliases: ['disability_status_level', 'disability_level'],
      type: 'number',
      index: null,
      description: '1 high support needs … 4 mild',
      build: integerColumn(sql`d.support_level`),
    }),
  ];
}

function farmAttributes(): Attribute[] {
  return [
    attribute({
      name: 'farm_size',
      aliases: ['land_size'],
      type: 'number',
      index: 'farm_land_size_idx',
      description: 'land size of the farm; sorts by the farmer’s total',
      build: column(sql`f.land_size`, 'numeric'),
      sort: { expr: sql`(select sum(f2.land_size) from farm f2 where f2.farmer_id = i.id)` },
    }),
    attribute({
      name: 'crop_type',
      aliases: [
        'crop',
        'crops',
        'crop_types',
        'crop_type_name',
        'crop_production.crop_type_name',
        'crop_production.crop_type',
      ],
      type: 'code',
      index: 'farm_crops_idx',
      description: 'a crop grown on the farm (maize, beans, rice…)',
      build: arrayBuilder(sql`f.crop_types`),
    }),
    attribute({
      name: 'irrigation_type',
      aliases: ['irrigation'],
      type: 'code',
      index: 'farm_irrigation_idx',
      description: 'irrigation of the farm (rainfed, drip, flood…)',
      build: column(sql`f.irrigation_type`, 'text'),
    }),
    attribute({
      name: 'livestock',
      aliases: ['livestock_type', 'animal_type', 'animal_production.type'],
      type: 'code',
      index: 'farm_livestock_idx',
      description: 'a type of livestock kept on the farm (cattle, goat…)',
      build: livestockBuilder(sql`f.livestock`),
    }),
    attribute({
      name: 'farm_type',
      type: 'string',
      index: null,
      description: 'type of farm, as recorded',
      build: column(sql`f.farm_type`, 'text'),
    }),
    attribute({
      name: 'land_tenure',
      type: 'string',
      index: null,
      description: 'land tenure, case-insensitive',
      build: column(sql`lower(f.land_tenure)`, 'ci'),
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// record types

export interface RecordTypeDef {
  readonly domain: Domain;
  /** The canonical name (echoed as `reg_record_type`). */
  readonly name: string;
  /** Accepted spellings (lower case); a prefix up to the last `:` is ignored. */
  readonly accepted: readonly string[];
  readonly kind: RecordKind;
  /** The per-row table the record's conditions range over (`none`: the entity row itself). */
  readonly scope: RowScope;
  readonly attributes: readonly Attribute[];
  /** Leading path segments of the response shape that are skipped (`demographic_info.sex`). */
  readonly wrappers: readonly string[];
  readonly holders: readonly IdentifierHolder[];
  readonly lookup: ReadonlyMap<string, Attribute>;
}

const PERSON_WRAPPERS = ['demographic_info', 'person', 'member', 'individual', 'reg_record', 'record'];
const PERSON_HOLDER: IdentifierHolder = { id: sql`i.id`, entity: 'individual' };
const GROUP_HOLDER: IdentifierHolder = { id: sql`h.id`, entity: 'household' };

function recordType(def: Omit<RecordTypeDef, 'lookup' | 'attributes'> & { attributes: Attribute[] }): RecordTypeDef {
  const attributes = [
    ...def.attributes,
    identifierAttribute(def.holders),
    ...WELL_KNOWN_IDENTIFIER_TYPES.map((type) => identifierAttribute(def.holders, type)),
  ];
  const lookup = new Map<string, Attribute>();
  const add = (key: string, attr: Attribute) => {
    const k = key.toLowerCase();
    if (lookup.has(k)) throw new Error(`vocabulary: ${def.domain}/${def.name} names ${k} twice`);
    lookup.set(k, attr);
  };
  for (const attr of attributes) {
    add(attr.name, attr);
    attr.aliases.forEach((alias) => add(alias, attr));
  }
  // Identifier aliases and bare well-known types (`UIN`).
  const any = attributes.find((a) => a.name === 'identifier')!;
  for (const alias of ['identifiers', 'identifier_value', 'member_identifier', 'group_identifier', 'person_identifier'])
    add(alias, any);
  for (const type of WELL_KNOWN_IDENTIFIER_TYPES)
    add(
      type,
      attributes.find((a) => a.name === `identifier.${type}`)!,
    );
  return { ...def, attributes, lookup };
}

function individualType(
  domain: Domain,
  name: string,
  accepted: string[],
  scope: RowScope,
  extra: Attribute[],
  wrappers: string[] = [],
  holders: IdentifierHolder[] = [PERSON_HOLDER],
): RecordTypeDef {
  return recordType({
    domain,
    name,
    accepted,
    kind: 'individual',
    scope,
    attributes: [...personAttributes(), ...extra],
    wrappers: [...PERSON_WRAPPERS, ...wrappers],
    holders,
  });
}

function groupType(
  domain: Domain,
  name: string,
  accepted: string[],
  scope: RowScope,
  extra: Attribute[],
): RecordTypeDef {
  return recordType({
    domain,
    name,
    accepted,
    kind: 'household',
    scope,
    attributes: [...groupAttributes(), ...extra],
    wrappers: ['group', 'household', 'beneficiary', 'reg_record', 'record'],
    holders: [GROUP_HOLDER],
  });
}

export interface DomainVocabulary {
  readonly domain: Domain;
  /** The default record type (the domain's individual type). */
  readonly individual: RecordTypeDef;
  readonly household?: RecordTypeDef;
  readonly types: readonly RecordTypeDef[];
}

function domainVocabulary(individual: RecordTypeDef, household?: RecordTypeDef): DomainVocabulary {
  return {
    domain: individual.domain,
    individual,
    ...(household ? { household } : {}),
    types: household ? [individual, household] : [individual],
  };
}

export const VOCABULARY: Readonly<Record<Domain, DomainVocabulary>> = {
  social: domainVocabulary(
    individualType('social', 'Member', ['member', 'person', 'srperson', 'individual'], 'none', []),
    groupType('social', 'Group', ['group', 'household', 'family'], 'none', []),
  ),
  crvs: domainVocabulary(
    individualType(
      'crvs',
      'Person',
      ['person', 'crvsperson', 'crvs_person', 'member', 'individual'],
      'none',
      crvsAttributes(),
      ['crvs_person'],
    ),
  ),
  ibr: domainVocabulary(
    individualType(
      'ibr',
      'Beneficiary',
      ['beneficiary', 'member', 'person', 'ibrperson', 'individual'],
      'enrollment',
      enrollmentAttributes(sql`i.id`),
      ['beneficiary', 'enrollment', 'enrolment'],
    ),
    groupType('ibr', 'Group', ['group', 'household', 'family'], 'enrollment', enrollmentAttributes(sql`h.id`)),
  ),
  dr: domainVocabulary(
    individualType(
      'dr',
      'DisabledPerson',
      ['disabledperson', 'pwd_person', 'pwdperson', 'drperson', 'person', 'member', 'individual'],
      'disability',
      disabilityAttributes(),
      ['personal_details', 'disability_details', 'disability_info', 'disabled_person'],
    ),
  ),
  fr: domainVocabulary(
    individualType(
      'fr',
      'Farmer',
      ['farmer', 'frperson', 'person', 'member', 'individual'],
      'farm',
      farmAttributes(),
      [
        'farmer',
        'farmer_personal_details',
        'famer_personal_details',
        'farm_details',
        'farm',
        'farming_activities',
        'crop_production',
        'animal_production',
      ],
      [PERSON_HOLDER, { id: sql`f.id`, entity: 'farm' }],
    ),
  ),
};

// ---------------------------------------------------------------------------------------------
// resolution

/** A record type name as sent (`Member`, `spdci-extensions-dci:Member`) → the domain's record type. */
export function findRecordType(domain: Domain, name: string): RecordTypeDef | undefined {
  const key = name.trim().replace(/^.*:/, '').toLowerCase();
  return VOCABULARY[domain].types.find((t) => t.accepted.includes(key));
}

export interface ResolvedRecordType {
  type: RecordTypeDef;
  /** Whether the caller named it (else the domain default). */
  explicit: boolean;
}

/**
 * Record type of a search (contract §7): `search_criteria.record_type` / `reg_record_type` first,
 * then `response_entity`, then the expression's `collection`, else the domain's individual type.
 * A named type the domain does not serve is `rjct.search_criteria.invalid`.
 */
export function resolveRecordType(
  domain: Domain,
  criteria: Readonly<Record<string, unknown>>,
  collection?: string,
): ResolvedRecordType {
  const sources: [string, unknown][] = [
    ['record_type', criteria.record_type],
    ['reg_record_type', criteria.reg_record_type],
    ['response_entity', criteria.response_entity],
    ['collection', collection],
  ];
  for (const [field, value] of sources) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') invalid(`${field} must be a string`);
    const type = findRecordType(domain, value);
    if (!type) {
      const names = VOCABULARY[domain].types.map((t) => t.name).join(', ');
      invalid(`record type ${shown(value)} (${field}) is not served by the ${domain} registry (use ${names})`);
    }
    return { type, explicit: true };
  }
  return { type: VOCABULARY[domain].individual, explicit: false };
}

const IDENTIFIER_PREFIXES = ['identifier.', 'identifiers.', 'member_identifier.', 'group_identifier.'];
const PRINTABLE_NAME = /^[\x21-\x7e]+$/;

/**
 * A caller's attribute name → the allowed attribute of the record type: exact names and aliases
 * (case-insensitive), then with leading response-shape segments removed (`demographic_info.`,
 * `demographic_info.person.`, `personal_details.`…), and `identifier.TYPE` for any identifier type.
 * Anything else is `rjct.search_criteria.invalid`.
 */
export function resolveAttribute(type: RecordTypeDef, name: string): Attribute {
  const original = name.trim();
  if (PRINTABLE_NAME.test(original) && original.length <= 200) {
    let rest = original;
    for (let round = 0; round < 8; round++) {
      const key = rest.toLowerCase();
      const hit = type.lookup.get(key);
      if (hit) return hit;
      const prefix = IDENTIFIER_PREFIXES.find((p) => key.startsWith(p));
      if (prefix && rest.length > prefix.length) return identifierAttribute(type.holders, rest.slice(prefix.length));
      const dot = key.indexOf('.');
      if (dot <= 0 || !type.wrappers.includes(key.slice(0, dot))) break;
      rest = rest.slice(dot + 1);
    }
  }
  return invalid(`unknown attribute ${shown(name)} for ${type.domain} record type ${type.name}`);
}

/** The condition of an identifier node: the record (or, for farmers, one of their farms) holds it. */
export function identifierCondition(type: RecordTypeDef, idType: string, value: string): Condition {
  return identifierMatch(type.holders, idType, [value]);
}
