import { readFileSync } from 'node:fs';
import { buildSchema, GraphQLObjectType, valueFromASTUntyped, type GraphQLSchema, type ValueNode } from 'graphql';

/** schema.graphql at the project root is the one source of the schema. */
export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url);

export const readSchemaSource = (): string => readFileSync(SCHEMA_PATH, 'utf8');

export const loadSchema = (): GraphQLSchema => buildSchema(readSchemaSource());

/** `JSON` passes any JSON value through unchanged, in both directions. */
export const JSONScalar = {
  serialize: (value: unknown) => value,
  parseValue: (value: unknown) => value,
  parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) => valueFromASTUntyped(ast, variables),
};

export type RootResolvers = Record<'Query' | 'Mutation' | 'Subscription', Record<string, unknown>>;

/**
 * The schema and the resolvers must name the same root fields: a field without a resolver would
 * answer null forever, a resolver without a field would never run. Checked at startup, so a
 * mismatch stops the server instead of surfacing as a confusing null in production.
 */
export function resolverMismatches(schema: GraphQLSchema, resolvers: RootResolvers): string[] {
  const roots = { Query: schema.getQueryType(), Mutation: schema.getMutationType(), Subscription: schema.getSubscriptionType() };
  return Object.entries(roots).flatMap(([name, type]) => {
    const fields = type instanceof GraphQLObjectType ? Object.keys(type.getFields()) : [];
    const implemented = Object.keys(resolvers[name as keyof RootResolvers]);
    return [
      ...fields.filter((field) => !implemented.includes(field)).map((field) => `${name}.${field} has no resolver`),
      ...implemented.filter((field) => !fields.includes(field)).map((field) => `resolver ${name}.${field} has no field in the schema`),
    ];
  });
}

export function assertResolversMatch(schema: GraphQLSchema, resolvers: RootResolvers): void {
  const mismatches = resolverMismatches(schema, resolvers);
  if (mismatches.length > 0) throw new Error(`schema.graphql and the resolvers disagree:\n  ${mismatches.join('\n  ')}`);
}
