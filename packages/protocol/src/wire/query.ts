/**
 * Query payloads of `search_criteria.query`, `subscribe_criteria.filter` and the verify criteria
 * (`dci-brief.md` §3.2).
 *
 * The spec lists the shapes in an `anyOf` that is not tied to `query_type`, and the shapes overlap.
 * Here the shape is selected by the discriminator (`query_type` / `filter_type`) with
 * `if`/`then`, so a message is checked against exactly one shape and errors point at it.
 *
 * Deliberately looser than the spec: integer values are accepted (the spec's
 * `oneOf[string, integer, number, …]` rejects every integer, brief §10.2 #1), arrays are accepted
 * as predicate values (operator `in`), and `operator`/`condition` are any string (an unknown one is
 * a bad query, answered per item with `rjct.search_criteria.invalid`, contract §4).
 */
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { JsonObject, StringEnum } from './common.js';

/** `query_type` / `filter_type` values (`graphql` is [C] CRVS/DR/FR; accepted for every domain). */
export const QUERY_TYPES = ['idtype-value', 'expression', 'predicate', 'graphql'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];
export const QueryTypeSchema = StringEnum(QUERY_TYPES);

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

/** `idtype-value`: `{ type: "UIN", value: "TEST-001" }`. */
export const IdTypeValueQuery = Type.Object({
  type: Type.String({ minLength: 1 }),
  value: Type.Union([Type.String(), Type.Number(), Type.Boolean(), JsonObject]),
});
export type IdTypeValueQuery = Static<typeof IdTypeValueQuery>;

/**
 * `expression` (`ExpTemplate`): `{ type: "ns:org:QueryType:expression", value: { expression: … } }`
 * in the spec; the value's grammar is not specified (the de-facto form is MongoDB-like), so any
 * object is accepted and the engine interprets it.
 */
export type ExpressionQuery = { type?: string; value?: unknown } & Record<string, unknown>;
export const ExpressionQuery = Type.Unsafe<ExpressionQuery>({
  type: 'object',
  properties: { type: { type: 'string' } },
});

/** `graphql`: carried in the expression shape, `value.expression` holding the GraphQL text. */
export type GraphqlQuery = ExpressionQuery;
export const GraphqlQuery = ExpressionQuery;

/** A predicate value: a scalar, an object, or (for `in`) a list of scalars. */
export const PredicateValue = Type.Union([
  Type.String(),
  Type.Number(),
  Type.Boolean(),
  JsonObject,
  Type.Array(Scalar),
]);
export type PredicateValue = Static<typeof PredicateValue>;

/** `ExpPredicate`: `{ attribute_name, operator, attribute_value }`. */
export const PredicateQueryExpression = Type.Object({
  attribute_name: Type.String({ minLength: 1 }),
  operator: Type.String({ minLength: 1 }),
  attribute_value: PredicateValue,
});
export type PredicateQueryExpression = Static<typeof PredicateQueryExpression>;

/** `ExpPredicateWithCondition`: `expression1 [condition expression2]`, ordered by `seq_num`. */
export const PredicateQueryItem = Type.Object({
  seq_num: Type.Optional(Type.Number()),
  expression1: PredicateQueryExpression,
  condition: Type.Optional(Type.String()),
  expression2: Type.Optional(PredicateQueryExpression),
});
export type PredicateQueryItem = Static<typeof PredicateQueryItem>;

/** `predicate`: a non-empty list of predicate items. */
export const PredicateQuery = Type.Array(PredicateQueryItem, { minItems: 1 });
export type PredicateQuery = Static<typeof PredicateQuery>;

/** The operators and conditions the spec defines; `gte`/`lte` are accepted aliases (brief §3.2). */
export const PREDICATE_OPERATORS = ['gt', 'lt', 'eq', 'ge', 'le', 'in'] as const;
export const PREDICATE_OPERATOR_ALIASES: Readonly<Record<string, (typeof PREDICATE_OPERATORS)[number]>> = {
  gte: 'ge',
  lte: 'le',
};
export const PREDICATE_CONDITIONS = ['and', 'or', 'not'] as const;

/** The query shape of each query type. */
export const QUERY_SHAPES: Readonly<Record<QueryType, TSchema>> = {
  'idtype-value': IdTypeValueQuery,
  expression: ExpressionQuery,
  predicate: PredicateQuery,
  graphql: GraphqlQuery,
};

/** Any of the query shapes (used where no discriminator is given): an object or an array. */
export const AnyQuery = Type.Unsafe<IdTypeValueQuery | ExpressionQuery | PredicateQuery>({ type: ['object', 'array'] });

/**
 * Schema options selecting the shape of `payloadKey` by the value of `discriminatorKey`
 * (`allOf` of `if`/`then`). When the discriminator is absent no shape applies.
 */
export function discriminate(
  discriminatorKey: string,
  payloadKey: string,
  shapes: Readonly<Partial<Record<string, TSchema>>> = QUERY_SHAPES,
): { allOf: object[] } {
  return {
    allOf: Object.entries(shapes).map(([value, shape]) => ({
      if: { properties: { [discriminatorKey]: { const: value } }, required: [discriminatorKey] },
      then: { properties: { [payloadKey]: shape } },
    })),
  };
}
