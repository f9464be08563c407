import type { DocumentNode } from 'graphql';
import { ApiError } from '../errors.js';
import { measureDocument } from './queryMeasure.js';

/** How much one GraphQL document may ask for; each bound is a variable of its own (GRAPHQL_MAX_*). */
export interface QueryBounds {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  /** Lexical tokens of the document, counted before it is parsed: parsing is what a huge document costs. */
  maxTokens: number;
}

/**
 * Room for every query the viewer, GraphiQL (its introspection query is 13 deep and selects about
 * 200 fields) and the CLI send, and for workflows of a few hundred nodes written inline.
 */
export const QUERY_BOUND_DEFAULTS: QueryBounds = { maxDepth: 20, maxAliases: 50, maxCost: 1_000, maxTokens: 20_000 };

/** Past these the bounds no longer protect anything: a document this large takes the event loop for a noticeable time. */
export const QUERY_BOUND_MAXIMA: QueryBounds = { maxDepth: 100, maxAliases: 1_000, maxCost: 100_000, maxTokens: 500_000 };

/** The environment variable of each bound. */
export const QUERY_BOUND_VARIABLES: Record<keyof QueryBounds, string> = {
  maxDepth: 'GRAPHQL_MAX_DEPTH',
  maxAliases: 'GRAPHQL_MAX_ALIASES',
  maxCost: 'GRAPHQL_MAX_COST',
  maxTokens: 'GRAPHQL_MAX_TOKENS',
};

/** Refuses a document past a bound with QUERY_TOO_COMPLEX, naming the bound; nothing of it has run. */
export function checkQueryBounds(document: DocumentNode, bounds: QueryBounds): void {
  const measure = measureDocument(document);
  const over = (
    [
      ['maxDepth', measure.depth, 'depth'],
      ['maxAliases', measure.aliases, 'aliases'],
      ['maxCost', measure.cost, 'cost (fields selected)'],
    ] as const
  ).find(([bound, value]) => value > bounds[bound]);
  if (!over) return;
  const [bound, value, what] = over;
  throw new ApiError('QUERY_TOO_COMPLEX', `the query's ${what} is ${value}, over the limit of ${bounds[bound]} (${QUERY_BOUND_VARIABLES[bound]})`, {
    ...measure,
    limit: bounds[bound],
  });
}
