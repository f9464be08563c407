import { DomainError } from '../domain/errors.js';
import { DEFAULT_TENANT } from '../domain/tenants.js';
import type { ApiDeps } from './apiDeps.js';

/** setSecret, deleteSecret, secrets: names and dates only, a value goes in and never comes out. */
export function secretResolvers({ secrets }: Pick<ApiDeps, 'secrets'>) {
  return {
    Query: {
      secrets: () => secrets.list(DEFAULT_TENANT),
    },
    Mutation: {
      setSecret: (_: unknown, { name, value }: { name: string; value: string }) => secrets.set(DEFAULT_TENANT, name, value),
      deleteSecret: async (_: unknown, { name }: { name: string }) => {
        const deleted = await secrets.delete(DEFAULT_TENANT, name);
        if (!deleted) throw new DomainError('NOT_FOUND', `no secret named ${name}`);
        return deleted;
      },
    },
  };
}
