import { DomainError } from '../domain/errors.js';
import { tenantOfCaller } from '../auth/actor.js';
import type { ApiDeps } from './apiDeps.js';

/** setSecret, deleteSecret, secrets: the caller's tenant's, names and dates only; a value goes in and never comes out. */
export function secretResolvers({ secrets }: Pick<ApiDeps, 'secrets'>) {
  return {
    Query: {
      secrets: (_: unknown, __: unknown, context: unknown) => secrets.list(tenantOfCaller(context)),
    },
    Mutation: {
      setSecret: (_: unknown, { name, value }: { name: string; value: string }, context: unknown) => secrets.set(tenantOfCaller(context), name, value),
      deleteSecret: async (_: unknown, { name }: { name: string }, context: unknown) => {
        const deleted = await secrets.delete(tenantOfCaller(context), name);
        if (!deleted) throw new DomainError('NOT_FOUND', `no secret named ${name}`);
        return deleted;
      },
    },
  };
}
