import { readFileSync } from 'node:fs';
import { buildSchema, isInputObjectType, isObjectType, type GraphQLField, type GraphQLInputField } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/apiDeps.js';
import { ExecutionUpdates } from '../../src/api/live/executionUpdates.js';
import { createResolvers } from '../../src/api/resolvers.js';
import { loadSchema, resolverMismatches } from '../../src/api/schema.js';

const contract = buildSchema(readFileSync(new URL('./contract.graphql', import.meta.url), 'utf8'));
const schema = loadSchema();

function resolversWithoutBackends() {
  const projections = { onChange: () => () => {}, caughtUp: async () => {} };
  const deps = { projections, auth: {}, engine: { payloads: {} } } as unknown as ApiDeps;
  const updates = new ExecutionUpdates({ readModel: deps.readModel, projections, log: console as never });
  return createResolvers(deps, { updates, sinkFor: () => ({}) as never }, console as never);
}

const signature = (field: GraphQLField<unknown, unknown> | GraphQLInputField) => ({
  type: String(field.type),
  args: 'args' in field ? Object.fromEntries(field.args.map((arg) => [arg.name, String(arg.type)])) : {},
});

describe('schema.graphql', () => {
  it('has a resolver for every Query, Mutation and Subscription field, and no resolver without a field', () => {
    expect(resolverMismatches(schema, resolversWithoutBackends())).toEqual([]);
  });

  it('reports a field without a resolver and a resolver without a field', () => {
    const resolvers = resolversWithoutBackends();
    const { workflows: _, ...Query } = resolvers.Query;
    expect(resolverMismatches(schema, { ...resolvers, Query: { ...Query, extra: () => null } })).toEqual([
      'Query.workflows has no resolver',
      'resolver Query.extra has no field in the schema',
    ]);
  });

  it('keeps every type, field and argument of the DESIGN contract, with the same types', () => {
    for (const type of Object.values(contract.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const ours = schema.getType(type.name);
      expect(ours?.constructor, type.name).toBe(type.constructor);
      if (!(isObjectType(type) || isInputObjectType(type)) || !(isObjectType(ours) || isInputObjectType(ours))) continue;
      for (const field of Object.values(type.getFields())) {
        const mine = ours.getFields()[field.name];
        expect(mine, `${type.name}.${field.name}`).toBeDefined();
        const expected = signature(field);
        // Arguments may be added (extensions), never changed or removed.
        expect(
          { ...signature(mine!), args: Object.fromEntries(Object.keys(expected.args).map((name) => [name, signature(mine!).args[name]])) },
          `${type.name}.${field.name}`,
        ).toEqual(expected);
      }
    }
  });
});
