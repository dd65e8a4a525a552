/**
 * The one query AST behind the three DCI query forms (`idtype-value`, `expression`, `predicate`;
 * `dci-brief.md` §3.2). Parsers (`parse.ts`) turn a wire query into this tree; the server compiles
 * it to SQL through its allow-list of attributes. The tree is plain data: attribute names are the
 * caller's text, unresolved, and values are as given (strings, numbers, booleans, lists for
 * `in`/`nin`, a boolean for `exists`); resolving and coercing them is the engine's job.
 */

/** Comparison operators. `exists` takes a boolean; `in`/`nin` take a list. */
export const CMP_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists'] as const;
export type CmpOp = (typeof CMP_OPERATORS)[number];

/** All sub-queries hold (`and` of nothing = match everything). */
export interface AndNode {
  kind: 'and';
  items: QueryNode[];
}

/** Any sub-query holds (`or` of nothing = match nothing). */
export interface OrNode {
  kind: 'or';
  items: QueryNode[];
}

/** The sub-query does not hold. A comparison on a missing value is false, so its negation is true. */
export interface NotNode {
  kind: 'not';
  item: QueryNode;
}

/** `attribute op value`. */
export interface CmpNode {
  kind: 'cmp';
  attribute: string;
  op: CmpOp;
  value: unknown;
}

/** The record holds the identifier `type` = `value`. */
export interface IdentifierNode {
  kind: 'identifier';
  type: string;
  value: string;
}

export type QueryNode = AndNode | OrNode | NotNode | CmpNode | IdentifierNode;

/** Bounds on what a caller may send; beyond them the query is `rjct.search_criteria.invalid`. */
export const QUERY_LIMITS = {
  /** Levels of the AST (a lone comparison is depth 1). */
  maxDepth: 10,
  /** Nodes of the AST (every and/or/not/cmp/identifier counts one). */
  maxNodes: 100,
  /** Values of one `in`/`nin` list. */
  maxListValues: 1000,
  /** Keys of a `sort` list. */
  maxSortKeys: 10,
  /** Length of an attribute name or identifier type. */
  maxNameLength: 200,
} as const;

/** Item-level reason codes a query can be rejected with (contract §4). */
export type QueryErrorCode = 'rjct.search_criteria.invalid' | 'rjct.sort.invalid' | 'rjct.pagination.invalid';

/**
 * A query, sort or page the engine cannot answer. It is an item-level result (`status: rjct` with
 * `code` as `status_reason_code` and the message as `status_reason_message`), never an envelope
 * error. Messages name the offending attribute or operator and never echo long caller text.
 */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A sort key: attribute (caller's name, unresolved) and direction. */
export interface SortKey {
  attribute: string;
  order: 'asc' | 'desc';
}

/** Depth and node count of a tree. */
export function measureQuery(node: QueryNode): { depth: number; nodes: number } {
  switch (node.kind) {
    case 'and':
    case 'or': {
      let depth = 0;
      let nodes = 1;
      for (const item of node.items) {
        const m = measureQuery(item);
        depth = Math.max(depth, m.depth);
        nodes += m.nodes;
      }
      return { depth: depth + 1, nodes };
    }
    case 'not': {
      const m = measureQuery(node.item);
      return { depth: m.depth + 1, nodes: m.nodes + 1 };
    }
    default:
      return { depth: 1, nodes: 1 };
  }
}

/** The attribute names a tree compares (in order of appearance, without repeats). */
export function queryAttributes(node: QueryNode): string[] {
  const out = new Set<string>();
  const walk = (n: QueryNode): void => {
    if (n.kind === 'cmp') out.add(n.attribute);
    else if (n.kind === 'not') walk(n.item);
    else if (n.kind === 'and' || n.kind === 'or') n.items.forEach(walk);
  };
  walk(node);
  return [...out];
}
