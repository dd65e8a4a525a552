/**
 * Wire query → AST (`ast.ts`), for the three query types of `dci-brief.md` §3.2, and `sort` →
 * sort keys. Pure and strict: anything the grammar below does not cover is a `QueryError`
 * (`rjct.search_criteria.invalid`, or `rjct.sort.invalid` for the sort), never a guess.
 *
 * Grammar summary (the full text with examples is `docs/search.md`):
 * - `idtype-value`: `{type, value}` → one `identifier` node (a number or boolean value is
 *   taken as its string form).
 * - `expression`: a MongoDB-like document, optionally wrapped as the spec shows —
 *   `{type: "ns:org:QueryType:expression", value: {expression: {collection, query}}}` — or any
 *   inner part of that wrapper (`{expression: …}`, `{collection, query}`, the bare document). A
 *   document is the AND of its keys: `$and`/`$or`/`$nor` (non-empty lists of documents),
 *   `$not` (a document), or an attribute (dotted paths allowed) whose value is either a scalar
 *   (implicit `$eq`) or an operator object (`$eq $ne $gt $gte $lt $lte $in $nin $exists $not`;
 *   the `$` may be left out, as in the DR sample `{"eq": "…"}`, and `ge`/`le` are accepted).
 *   The empty document `{}` matches every record. An array given as an expression is read as
 *   a predicate list (the samples do that).
 * - `predicate`: a list of `{seq_num, expression1, condition, expression2}`, evaluated in
 *   `seq_num` order. Within an item, `expression1 and|or expression2`, and `not` means
 *   `expression1 AND NOT expression2`. Items are joined with AND — except that an item with a
 *   `condition` and no `expression2` joins itself to the *next* item with that condition
 *   (`or`, `and`, or `not` = AND NOT). The chain is folded left to right:
 *   `[A or] [B] [C]` = `(A OR B) AND C`.
 */
import {
  QUERY_LIMITS,
  QueryError,
  measureQuery,
  type CmpNode,
  type CmpOp,
  type QueryNode,
  type SortKey,
} from './ast.js';

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(message: string): never {
  throw new QueryError('rjct.search_criteria.invalid', message);
}

/** A short, printable form of caller text for messages. */
function shown(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 60 ? `${clean.slice(0, 57)}...` : clean);
}

/** Raw nesting bound while walking caller JSON (the AST bound is checked on the result). */
const MAX_WALK_DEPTH = QUERY_LIMITS.maxDepth * 3 + 5;

function checkWalk(depth: number): void {
  if (depth > MAX_WALK_DEPTH) invalid(`the query is nested deeper than ${QUERY_LIMITS.maxDepth} levels`);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim() === '') invalid(`${what} must be a non-empty string`);
  if (name.length > QUERY_LIMITS.maxNameLength)
    invalid(`${what} is longer than ${QUERY_LIMITS.maxNameLength} characters`);
  return name.trim();
}

/** Joins two nodes, flattening runs of the same connective. */
function join(kind: 'and' | 'or', a: QueryNode, b: QueryNode): QueryNode {
  const left = a.kind === kind ? a.items : [a];
  const right = b.kind === kind ? b.items : [b];
  return { kind, items: [...left, ...right] };
}

function group(kind: 'and' | 'or', items: QueryNode[]): QueryNode {
  if (items.length === 1) return items[0]!;
  return { kind, items: items.flatMap((i) => (i.kind === kind ? i.items : [i])) };
}

function negate(item: QueryNode): QueryNode {
  return { kind: 'not', item };
}

function bounded(node: QueryNode): QueryNode {
  const { depth, nodes } = measureQuery(node);
  if (depth > QUERY_LIMITS.maxDepth) invalid(`the query is nested deeper than ${QUERY_LIMITS.maxDepth} levels`);
  if (nodes > QUERY_LIMITS.maxNodes) invalid(`the query has more than ${QUERY_LIMITS.maxNodes} terms`);
  return node;
}

// ---------------------------------------------------------------------------------------------
// idtype-value

function parseIdTypeValue(query: unknown): QueryNode {
  if (!isObj(query)) invalid('an idtype-value query is an object {type, value}');
  const type = checkName(query.type, 'the identifier type');
  const raw = query.value;
  let value: string;
  if (typeof raw === 'string') value = raw;
  else if (typeof raw === 'number' && Number.isFinite(raw)) value = String(raw);
  else if (typeof raw === 'boolean') value = String(raw);
  else invalid('the identifier value must be a string');
  if (value.trim() === '') invalid('the identifier value must not be empty');
  if (value.length > 1000) invalid('the identifier value is longer than 1000 characters');
  return { kind: 'identifier', type, value };
}

// ---------------------------------------------------------------------------------------------
// expression

/** Field-level operators, by their name without `$` (aliases included). */
const FIELD_OPERATORS: Readonly<Record<string, CmpOp | 'not'>> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'gt',
  gte: 'gte',
  ge: 'gte',
  lt: 'lt',
  lte: 'lte',
  le: 'lte',
  in: 'in',
  nin: 'nin',
  exists: 'exists',
  not: 'not',
};

const META_KEY = /^@/;

function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function listValue(value: unknown, attribute: string, op: string, splitStrings: boolean): unknown[] {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (splitStrings && typeof value === 'string')
    list = value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
  else if (splitStrings && (typeof value === 'number' || typeof value === 'boolean')) list = [value];
  else invalid(`${op} on ${shown(attribute)} needs a list of values`);
  if (list.length > QUERY_LIMITS.maxListValues)
    invalid(`${op} on ${shown(attribute)} has more than ${QUERY_LIMITS.maxListValues} values`);
  for (const item of list) {
    if (!isScalar(item) || item === null) invalid(`${op} on ${shown(attribute)} takes a list of plain values`);
  }
  return list;
}

function existsValue(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 'true' || value === '1') return true;
  if (value === 0 || value === 'false' || value === '0') return false;
  invalid(`exists on ${shown(attribute)} takes true or false`);
}

function cmp(attribute: string, op: CmpOp, value: unknown, splitStrings: boolean): CmpNode {
  if (op === 'in' || op === 'nin')
    return { kind: 'cmp', attribute, op, value: listValue(value, attribute, op, splitStrings) };
  if (op === 'exists') return { kind: 'cmp', attribute, op, value: existsValue(value, attribute) };
  if (!isScalar(value)) invalid(`${op} on ${shown(attribute)} takes a plain value (string, number or boolean)`);
  return { kind: 'cmp', attribute, op, value };
}

/** Whether an object is an operator object (`{$gt: 1}`, `{eq: "x"}`) rather than a value. */
function isOperatorObject(value: Obj): boolean {
  const keys = Object.keys(value);
  if (keys.length === 0) return false;
  if (keys.some((k) => k.startsWith('$'))) return true;
  return keys.every((k) => FIELD_OPERATORS[k.toLowerCase()] !== undefined);
}

function parseField(attribute: string, value: unknown, depth: number): QueryNode {
  checkWalk(depth);
  if (Array.isArray(value)) invalid(`a list for ${shown(attribute)} needs an operator ($in)`);
  if (!isObj(value)) return cmp(attribute, 'eq', value, false);
  if (!isOperatorObject(value)) invalid(`the value of ${shown(attribute)} is an object without operators`);
  const items: QueryNode[] = [];
  for (const [key, operand] of Object.entries(value)) {
    const op = FIELD_OPERATORS[key.replace(/^\$/, '').toLowerCase()];
    if (op === undefined) invalid(`unsupported operator ${shown(key)} on ${shown(attribute)}`);
    if (op === 'not') items.push(negate(parseField(attribute, operand, depth + 1)));
    else items.push(cmp(attribute, op, operand, false));
  }
  return group('and', items);
}

function documents(value: unknown, key: string, depth: number): QueryNode[] {
  if (!Array.isArray(value) || value.length === 0) invalid(`${key} takes a non-empty list of expressions`);
  if (value.length > QUERY_LIMITS.maxNodes) invalid(`the query has more than ${QUERY_LIMITS.maxNodes} terms`);
  return value.map((item) => parseDocument(item, depth + 1));
}

function parseDocument(doc: unknown, depth: number): QueryNode {
  checkWalk(depth);
  if (!isObj(doc)) invalid('an expression is an object such as {"sex": "female"} or {"$and": [...]}');
  const items: QueryNode[] = [];
  const entries = Object.entries(doc).filter(([key]) => !META_KEY.test(key));
  if (entries.length > QUERY_LIMITS.maxNodes) invalid(`the query has more than ${QUERY_LIMITS.maxNodes} terms`);
  for (const [key, value] of entries) {
    if (key.startsWith('$')) {
      switch (key.toLowerCase()) {
        case '$and':
          items.push(group('and', documents(value, key, depth)));
          break;
        case '$or':
          items.push(group('or', documents(value, key, depth)));
          break;
        case '$nor':
          items.push(negate(group('or', documents(value, key, depth))));
          break;
        case '$not':
          items.push(negate(parseDocument(value, depth + 1)));
          break;
        default:
          invalid(`unsupported operator ${shown(key)}`);
      }
      continue;
    }
    items.push(parseField(checkName(key, 'an attribute name'), value, depth + 1));
  }
  if (items.length === 0) return { kind: 'and', items: [] };
  return group('and', items);
}

/** The keys of an object, without JSON-LD decorations. */
function keysOf(obj: Obj): string[] {
  return Object.keys(obj).filter((k) => !META_KEY.test(k));
}

/** Whether the object has one of `required` and nothing outside `allowed`. */
const onlyKeys = (obj: Obj, allowed: readonly string[], ...required: string[]) =>
  required.some((k) => keysOf(obj).includes(k)) && keysOf(obj).every((k) => allowed.includes(k));

/** Peels the spec's wrappers off an expression query: returns the document and the collection. */
function unwrapExpression(query: unknown): { doc: unknown; collection?: string } {
  let q = query;
  if (isObj(q) && onlyKeys(q, ['type', 'value'], 'value') && !isScalar(q.value)) {
    if (typeof q.type === 'string' && /graphql/i.test(q.type)) invalid('GraphQL queries are not supported');
    if (q.type !== undefined && typeof q.type !== 'string') invalid('the expression type must be a string');
    q = q.value;
  }
  if (isObj(q) && onlyKeys(q, ['expression'], 'expression')) {
    q = q.expression;
    if (typeof q === 'string') invalid('a textual expression is not supported; send a MongoDB-like object');
  }
  let collection: string | undefined;
  if (isObj(q) && onlyKeys(q, ['collection', 'query'], 'collection', 'query')) {
    if (q.collection !== undefined) collection = checkName(q.collection, 'the collection');
    q = q.query ?? {};
  }
  return collection === undefined ? { doc: q } : { doc: q, collection };
}

// ---------------------------------------------------------------------------------------------
// predicate

const PREDICATE_OPERATORS: Readonly<Record<string, CmpOp>> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'gt',
  lt: 'lt',
  ge: 'gte',
  le: 'lte',
  gte: 'gte',
  lte: 'lte',
  in: 'in',
};

function predicateCmp(expr: unknown, where: string): CmpNode {
  if (!isObj(expr)) invalid(`${where} must be an object {attribute_name, operator, attribute_value}`);
  const attribute = checkName(expr.attribute_name, `${where}.attribute_name`);
  if (typeof expr.operator !== 'string') invalid(`${where}.operator must be a string`);
  const op = PREDICATE_OPERATORS[expr.operator.trim().toLowerCase()];
  if (op === undefined) invalid(`unsupported operator ${shown(expr.operator)} in ${where}`);
  if (!('attribute_value' in expr) || expr.attribute_value === undefined)
    invalid(`${where}.attribute_value is missing`);
  return cmp(attribute, op, expr.attribute_value, true);
}

type Condition = 'and' | 'or' | 'not';

function condition(value: unknown, where: string): Condition | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') invalid(`${where}.condition must be and, or or not`);
  const c = value.trim().toLowerCase();
  if (c !== 'and' && c !== 'or' && c !== 'not') invalid(`unsupported condition ${shown(value)} in ${where}`);
  return c;
}

function combine(a: QueryNode, how: Condition, b: QueryNode): QueryNode {
  if (how === 'or') return join('or', a, b);
  if (how === 'not') return join('and', a, negate(b));
  return join('and', a, b);
}

function parsePredicate(query: unknown): QueryNode {
  const list = Array.isArray(query) ? query : isObj(query) && 'expression1' in query ? [query] : undefined;
  if (!list || list.length === 0)
    invalid('a predicate query is a non-empty list of {expression1, condition, expression2}');
  if (list.length > QUERY_LIMITS.maxNodes) invalid(`the query has more than ${QUERY_LIMITS.maxNodes} terms`);
  const items = list.map((raw, index) => {
    const where = `predicate[${index}]`;
    if (!isObj(raw)) invalid(`${where} must be an object`);
    const extra = Object.keys(raw).find((k) => /^expression\d+$/.test(k) && k !== 'expression1' && k !== 'expression2');
    if (extra) invalid(`${where}: only expression1 and expression2 are defined (got ${shown(extra)})`);
    const seq = raw.seq_num;
    if (seq !== undefined && seq !== null && (typeof seq !== 'number' || !Number.isFinite(seq)))
      invalid(`${where}.seq_num must be a number`);
    const e1 = predicateCmp(raw.expression1, `${where}.expression1`);
    const hasE2 = raw.expression2 !== undefined && raw.expression2 !== null;
    const cond = condition(raw.condition, where);
    if (!hasE2) return { index, seq: typeof seq === 'number' ? seq : undefined, term: e1, link: cond };
    const e2 = predicateCmp(raw.expression2, `${where}.expression2`);
    return {
      index,
      seq: typeof seq === 'number' ? seq : undefined,
      term: combine(e1, cond ?? 'and', e2),
      link: undefined,
    };
  });
  // seq_num ascending; items without one come after, in list order (the sort is stable).
  items.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || a.index - b.index);
  let node = items[0]!.term;
  let link: Condition = items[0]!.link ?? 'and';
  for (const item of items.slice(1)) {
    node = combine(node, link, item.term);
    link = item.link ?? 'and';
  }
  if (items.at(-1)!.link !== undefined)
    invalid('the last predicate has a condition but no expression2 and no following predicate');
  return node;
}

// ---------------------------------------------------------------------------------------------
// entry points

/** A parsed `search_criteria.query`: the AST and, for expressions, the `collection` it names. */
export interface ParsedQuery {
  node: QueryNode;
  collection?: string;
}

/** Parses a query of the given `query_type`; throws `QueryError`. */
export function parseSearchQuery(queryType: unknown, query: unknown): ParsedQuery {
  switch (queryType) {
    case 'idtype-value':
      return { node: bounded(parseIdTypeValue(query)) };
    case 'predicate':
      return { node: bounded(parsePredicate(query)) };
    case 'expression': {
      if (Array.isArray(query)) return { node: bounded(parsePredicate(query)) };
      const { doc, collection } = unwrapExpression(query);
      if (Array.isArray(doc)) return { node: bounded(parsePredicate(doc)), ...(collection ? { collection } : {}) };
      return { node: bounded(parseDocument(doc, 1)), ...(collection ? { collection } : {}) };
    }
    case 'graphql':
      return invalid('GraphQL queries are not supported');
    default:
      return invalid(
        typeof queryType === 'string'
          ? `unknown query_type ${shown(queryType)}`
          : 'query_type must be idtype-value, expression or predicate',
      );
  }
}

/** Parses a query of the given `query_type` into its AST; throws `QueryError`. */
export function parseQuery(queryType: unknown, query: unknown): QueryNode {
  return parseSearchQuery(queryType, query).node;
}

function badSort(message: string): never {
  throw new QueryError('rjct.sort.invalid', message);
}

/** Parses `search_criteria.sort` (absent = no keys); throws `QueryError('rjct.sort.invalid')`. */
export function parseSort(sort: unknown): SortKey[] {
  if (sort === undefined || sort === null) return [];
  if (!Array.isArray(sort)) badSort('sort is a list of {attribute_name, sort_order}');
  if (sort.length > QUERY_LIMITS.maxSortKeys) badSort(`sort has more than ${QUERY_LIMITS.maxSortKeys} keys`);
  return sort.map((item, i): SortKey => {
    if (!isObj(item)) badSort(`sort[${i}] must be an object {attribute_name, sort_order}`);
    const name = item.attribute_name;
    if (typeof name !== 'string' || name.trim() === '') badSort(`sort[${i}].attribute_name must be a non-empty string`);
    if (name.length > QUERY_LIMITS.maxNameLength)
      badSort(`sort[${i}].attribute_name is longer than ${QUERY_LIMITS.maxNameLength} characters`);
    const order = item.sort_order ?? 'asc';
    if (typeof order !== 'string') badSort(`sort[${i}].sort_order must be asc or desc`);
    const o = order.trim().toLowerCase();
    if (o !== 'asc' && o !== 'desc') badSort(`sort[${i}].sort_order must be asc or desc (got ${shown(order)})`);
    return { attribute: name.trim(), order: o };
  });
}
