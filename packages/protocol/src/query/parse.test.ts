import { describe, expect, it } from 'vitest';
import { QueryError, measureQuery, queryAttributes, type QueryNode } from './ast.js';
import { parseQuery, parseSearchQuery, parseSort } from './parse.js';

const cmp = (attribute: string, op: string, value: unknown): QueryNode =>
  ({ kind: 'cmp', attribute, op, value }) as QueryNode;
const and = (...items: QueryNode[]): QueryNode => ({ kind: 'and', items });
const or = (...items: QueryNode[]): QueryNode => ({ kind: 'or', items });
const not = (item: QueryNode): QueryNode => ({ kind: 'not', item });

const invalid = expect.objectContaining({ name: 'QueryError', code: 'rjct.search_criteria.invalid' });
const badSort = expect.objectContaining({ name: 'QueryError', code: 'rjct.sort.invalid' });

const expr = (query: unknown) => parseQuery('expression', query);
const pred = (query: unknown) => parseQuery('predicate', query);
const p = (attribute_name: string, operator: string, attribute_value: unknown) => ({
  attribute_name,
  operator,
  attribute_value,
});

describe('idtype-value', () => {
  it('is one identifier node', () => {
    expect(parseQuery('idtype-value', { type: 'UIN', value: 'TEST-001' })).toEqual({
      kind: 'identifier',
      type: 'UIN',
      value: 'TEST-001',
    });
    expect(parseQuery('idtype-value', { type: 'UIN', value: 12345 })).toEqual({
      kind: 'identifier',
      type: 'UIN',
      value: '12345',
    });
  });

  it('rejects what is not {type, value}', () => {
    for (const q of [
      undefined,
      'UIN',
      [],
      { type: 'UIN' },
      { value: 'x' },
      { type: '', value: 'x' },
      { type: 'UIN', value: '' },
      { type: 'UIN', value: { nested: 1 } },
      { type: 'UIN', value: null },
      { type: 7, value: 'x' },
    ]) {
      expect(() => parseQuery('idtype-value', q), JSON.stringify(q)).toThrow(invalid);
    }
  });
});

describe('expression', () => {
  it('implicit equality and the comparison operators', () => {
    expect(expr({ sex: 'female' })).toEqual(cmp('sex', 'eq', 'female'));
    for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'])
      expect(expr({ age: { [`$${op}`]: 5 } })).toEqual(cmp('age', op, 5));
    expect(expr({ area: { $in: ['A', 'B'] } })).toEqual(cmp('area', 'in', ['A', 'B']));
    expect(expr({ area: { $nin: ['A'] } })).toEqual(cmp('area', 'nin', ['A']));
    expect(expr({ death_date: { $exists: true } })).toEqual(cmp('death_date', 'exists', true));
    expect(expr({ death_date: { $exists: 'false' } })).toEqual(cmp('death_date', 'exists', false));
    expect(expr({ sex: null })).toEqual(cmp('sex', 'eq', null));
  });

  it('several keys, and several operators on one attribute, are ANDed', () => {
    expect(expr({ sex: 'male', age: { $gte: 18, $lt: 65 } })).toEqual(
      and(cmp('sex', 'eq', 'male'), cmp('age', 'gte', 18), cmp('age', 'lt', 65)),
    );
  });

  it('$and, $or, $nor, $not (document and field level)', () => {
    expect(expr({ $and: [{ a: 1 }, { b: 2 }] })).toEqual(and(cmp('a', 'eq', 1), cmp('b', 'eq', 2)));
    expect(expr({ $or: [{ a: 1 }, { $or: [{ b: 2 }, { c: 3 }] }] })).toEqual(
      or(cmp('a', 'eq', 1), cmp('b', 'eq', 2), cmp('c', 'eq', 3)),
    );
    expect(expr({ $nor: [{ a: 1 }, { b: 2 }] })).toEqual(not(or(cmp('a', 'eq', 1), cmp('b', 'eq', 2))));
    expect(expr({ $not: { a: 1 } })).toEqual(not(cmp('a', 'eq', 1)));
    expect(expr({ age: { $not: { $gte: 60 } } })).toEqual(not(cmp('age', 'gte', 60)));
    expect(expr({ $and: [{ a: 1 }] })).toEqual(cmp('a', 'eq', 1));
  });

  it('dotted paths and JSON-LD keys', () => {
    expect(expr({ 'demographic_info.person.sex': 'male', '@type': 'Query' })).toEqual(
      cmp('demographic_info.person.sex', 'eq', 'male'),
    );
  });

  it('operators without $ (the DR sample) and ge/le', () => {
    expect(expr({ 'personal_details.member_identifier': { eq: 'ABC451123' } })).toEqual(
      cmp('personal_details.member_identifier', 'eq', 'ABC451123'),
    );
    expect(expr({ age: { ge: 1, le: 2 } })).toEqual(and(cmp('age', 'gte', 1), cmp('age', 'lte', 2)));
  });

  it('unwraps the spec wrapper and returns the collection', () => {
    const inner = { $and: [{ poverty_score: { $lt: 5 } }, { location: { $eq: 'central_region' } }] };
    const node = and(cmp('poverty_score', 'lt', 5), cmp('location', 'eq', 'central_region'));
    const full = { type: 'ns:org:QueryType:expression', value: { expression: { collection: 'Group', query: inner } } };
    expect(parseSearchQuery('expression', full)).toEqual({ node, collection: 'Group' });
    expect(parseSearchQuery('expression', full.value)).toEqual({ node, collection: 'Group' });
    expect(parseSearchQuery('expression', full.value.expression)).toEqual({ node, collection: 'Group' });
    expect(parseSearchQuery('expression', inner)).toEqual({ node });
    expect(parseSearchQuery('expression', { type: 'ns:org:QueryType:NoSql', value: { expression: inner } })).toEqual({
      node,
    });
    expect(parseSearchQuery('expression', { collection: 'Group' })).toEqual({
      node: { kind: 'and', items: [] },
      collection: 'Group',
    });
  });

  it('the empty document is the empty AND (everything)', () => {
    expect(expr({})).toEqual({ kind: 'and', items: [] });
  });

  it('an array is read as a predicate list', () => {
    expect(expr([{ expression1: p('age', 'lt', '5') }])).toEqual(cmp('age', 'lt', '5'));
  });

  it('rejects what it does not understand', () => {
    const bad = [
      'sex = male',
      null,
      { $where: 'this.a > 1' },
      { $and: [] },
      { $or: {} },
      { $and: ['x'] },
      { a: { $regex: '^x' } },
      { a: { $in: 'x,y' } },
      { a: { $in: [{ x: 1 }] } },
      { a: { $in: [null] } },
      { a: { $gt: [1] } },
      { a: { $exists: 'maybe' } },
      { a: ['x', 'y'] },
      { a: { b: 1 } },
      { '': 1 },
      { [`${'x'.repeat(201)}`]: 1 },
      { type: 'ns:org:QueryType:graphql', value: { expression: 'query { x }' } },
      { expression: 'a > 5 && b < 10' },
      { collection: 5, query: {} },
    ];
    for (const q of bad) expect(() => expr(q), JSON.stringify(q)).toThrow(invalid);
  });
});

describe('predicate', () => {
  it('expression1 alone, and expression1 <condition> expression2', () => {
    expect(pred([{ expression1: p('age', 'lt', '25') }])).toEqual(cmp('age', 'lt', '25'));
    expect(
      pred([{ seq_num: 1, expression1: p('age', 'lt', '25'), condition: 'and', expression2: p('sex', 'eq', 'male') }]),
    ).toEqual(and(cmp('age', 'lt', '25'), cmp('sex', 'eq', 'male')));
    expect(pred([{ expression1: p('a', 'eq', '1'), condition: 'OR', expression2: p('b', 'eq', '2') }])).toEqual(
      or(cmp('a', 'eq', '1'), cmp('b', 'eq', '2')),
    );
    expect(pred([{ expression1: p('a', 'eq', '1'), condition: 'not', expression2: p('b', 'eq', '2') }])).toEqual(
      and(cmp('a', 'eq', '1'), not(cmp('b', 'eq', '2'))),
    );
    expect(pred([{ expression1: p('a', 'eq', '1'), expression2: p('b', 'eq', '2') }])).toEqual(
      and(cmp('a', 'eq', '1'), cmp('b', 'eq', '2')),
    );
  });

  it('operators and their aliases', () => {
    const op = (operator: string) => (pred([{ expression1: p('x', operator, '1') }]) as { op: string }).op;
    expect(['eq', 'gt', 'lt', 'ge', 'le', 'gte', 'lte', 'ne', 'GE'].map(op)).toEqual([
      'eq',
      'gt',
      'lt',
      'gte',
      'lte',
      'gte',
      'lte',
      'ne',
      'gte',
    ]);
    expect(() => op('like')).toThrow(invalid);
    expect(() => op('$gt')).toThrow(invalid);
  });

  it('in takes a list or a comma-separated string', () => {
    expect(pred([{ expression1: p('x', 'in', ['a', 'b']) }])).toEqual(cmp('x', 'in', ['a', 'b']));
    expect(pred([{ expression1: p('x', 'in', 'a, b,,c') }])).toEqual(cmp('x', 'in', ['a', 'b', 'c']));
    expect(pred([{ expression1: p('x', 'in', 5) }])).toEqual(cmp('x', 'in', [5]));
  });

  it('items are ANDed in seq_num order; unnumbered items come last', () => {
    expect(
      pred([
        { seq_num: 2, expression1: p('b', 'eq', '2') },
        { expression1: p('c', 'eq', '3') },
        { seq_num: 1, expression1: p('a', 'eq', '1') },
      ]),
    ).toEqual(and(cmp('a', 'eq', '1'), cmp('b', 'eq', '2'), cmp('c', 'eq', '3')));
  });

  it('a condition without expression2 joins the item to the next one, folded left to right', () => {
    expect(
      pred([
        { seq_num: 1, expression1: p('a', 'eq', '1'), condition: 'or' },
        { seq_num: 2, expression1: p('b', 'eq', '2') },
        { seq_num: 3, expression1: p('c', 'eq', '3') },
      ]),
    ).toEqual(and(or(cmp('a', 'eq', '1'), cmp('b', 'eq', '2')), cmp('c', 'eq', '3')));
    expect(
      pred([
        { seq_num: 1, expression1: p('a', 'eq', '1'), condition: 'not' },
        { seq_num: 2, expression1: p('b', 'eq', '2'), condition: 'or', expression2: p('c', 'eq', '3') },
      ]),
    ).toEqual(and(cmp('a', 'eq', '1'), not(or(cmp('b', 'eq', '2'), cmp('c', 'eq', '3')))));
  });

  it('rejects malformed lists', () => {
    const bad = [
      [],
      {},
      'age < 5',
      [{}],
      [{ expression1: p('a', 'eq', '1'), condition: 'or' }],
      [{ expression1: p('a', 'eq', '1'), condition: 'xor', expression2: p('b', 'eq', '2') }],
      [{ expression1: p('a', 'eq', '1'), expression2: p('b', 'eq', '2'), expression3: p('c', 'eq', '3') }],
      [{ seq_num: 'one', expression1: p('a', 'eq', '1') }],
      [{ expression1: { attribute_name: 'a', operator: 'eq' } }],
      [{ expression1: { attribute_name: '', operator: 'eq', attribute_value: '1' } }],
      [{ expression1: p('a', 'eq', { x: 1 }) }],
      [{ expression1: p('a', 'in', [[1]]) }],
    ];
    for (const q of bad) expect(() => pred(q), JSON.stringify(q)).toThrow(invalid);
  });
});

describe('size bounds', () => {
  it('depth at most 10', () => {
    let doc: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 9; i++) doc = { $not: doc };
    expect(measureQuery(expr(doc)).depth).toBe(10);
    expect(() => expr({ $not: doc })).toThrow(invalid);
  });

  it('at most 100 nodes', () => {
    const terms = (n: number) => ({ $or: Array.from({ length: n }, (_, i) => ({ [`a${i}`]: i })) });
    expect(measureQuery(expr(terms(99))).nodes).toBe(100);
    expect(() => expr(terms(100))).toThrow(invalid);
    const items = Array.from({ length: 101 }, () => ({ expression1: p('a', 'eq', '1') }));
    expect(() => pred(items)).toThrow(invalid);
  });

  it('deeply nested JSON is refused without recursing through all of it', () => {
    let doc: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 100_000; i++) doc = { $and: [doc] };
    expect(() => expr(doc)).toThrow(invalid);
  });

  it('long in-lists', () => {
    expect(() => expr({ a: { $in: Array.from({ length: 1001 }, (_, i) => i) } })).toThrow(invalid);
  });
});

describe('query types', () => {
  it('graphql and unknown types are refused', () => {
    expect(() => parseQuery('graphql', { value: { expression: 'query { x }' } })).toThrow(invalid);
    expect(() => parseQuery('sql', 'select 1')).toThrow(invalid);
    expect(() => parseQuery(undefined, {})).toThrow(invalid);
  });

  it('QueryError carries its code', () => {
    try {
      parseQuery('expression', { $bad: 1 });
    } catch (error) {
      expect(error).toBeInstanceOf(QueryError);
      expect((error as QueryError).code).toBe('rjct.search_criteria.invalid');
      expect((error as QueryError).message).toContain('$bad');
    }
  });

  it('queryAttributes lists the compared attributes', () => {
    expect(queryAttributes(expr({ $or: [{ a: 1 }, { b: { $not: { $gt: 1 } } }, { a: 2 }] }))).toEqual(['a', 'b']);
  });
});

describe('sort', () => {
  it('parses keys with a default asc', () => {
    expect(parseSort(undefined)).toEqual([]);
    expect(parseSort(null)).toEqual([]);
    expect(parseSort([])).toEqual([]);
    expect(
      parseSort([
        { attribute_name: 'birth_date', sort_order: 'desc' },
        { attribute_name: ' surname ', sort_order: 'ASC' },
        { attribute_name: 'poverty_score' },
      ]),
    ).toEqual([
      { attribute: 'birth_date', order: 'desc' },
      { attribute: 'surname', order: 'asc' },
      { attribute: 'poverty_score', order: 'asc' },
    ]);
  });

  it('rejects bad sorts with rjct.sort.invalid', () => {
    const bad = [
      'birth_date',
      { attribute_name: 'birth_date' },
      [null],
      [{}],
      [{ attribute_name: '' }],
      [{ attribute_name: 5 }],
      [{ attribute_name: 'a', sort_order: 'up' }],
      [{ attribute_name: 'a', sort_order: 1 }],
      [{ attribute_name: 'x'.repeat(201) }],
      Array.from({ length: 11 }, () => ({ attribute_name: 'a' })),
    ];
    for (const s of bad) expect(() => parseSort(s), JSON.stringify(s)).toThrow(badSort);
  });
});
