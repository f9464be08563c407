import { identityOf, type IdentityContext } from '../auth/identity.js';
import { DomainError } from '../domain/errors.js';
import { MAX_CONCURRENT_EXECUTIONS } from '../domain/limits.js';
import { DEFAULT_TENANT } from '../domain/tenants.js';
import type { ApiDeps } from './apiDeps.js';
import { ApiError } from './errors.js';

/** Tenants at most: each one's limit is cached by every process, and its keys and data are rows. */
export const MAX_TENANTS = 10_000;
const MAX_TENANT_NAME = 100;

/**
 * createTenant, tenants, updateTenant (ADMIN, FIELD_ROLES). Creating tenants needs an ADMIN of
 * the tenant default, who also sees and sets every tenant; an ADMIN of another tenant sees and
 * sets only its own, and any other tenant is answered as an unknown one.
 */
export function tenantResolvers({ auth, engine }: Pick<ApiDeps, 'auth' | 'engine'>) {
  const { tenants } = auth;
  const ofDefault = (context: unknown) => identityOf(context as IdentityContext).tenantId === DEFAULT_TENANT;
  const mayReach = (context: unknown, tenantId: string) => ofDefault(context) || identityOf(context as IdentityContext).tenantId === tenantId;
  return {
    Query: {
      tenants: async (_: unknown, __: unknown, context: unknown) => {
        if (ofDefault(context)) return tenants.list();
        const own = await tenants.get(identityOf(context as IdentityContext).tenantId);
        return own ? [own] : [];
      },
    },
    Mutation: {
      createTenant: async (_: unknown, { name }: { name: string }, context: unknown) => {
        if (!ofDefault(context)) throw new ApiError('FORBIDDEN', 'creating tenants needs an ADMIN of the tenant default');
        const trimmed = name.trim();
        if (trimmed.length < 1 || trimmed.length > MAX_TENANT_NAME) throw new ApiError('BAD_USER_INPUT', `name must be 1 to ${MAX_TENANT_NAME} characters`);
        if ((await tenants.count()) >= MAX_TENANTS) throw new ApiError('BAD_USER_INPUT', `there are at most ${MAX_TENANTS} tenants`);
        const created = await tenants.create(trimmed);
        if (!created) throw new ApiError('BAD_USER_INPUT', `a tenant named ${JSON.stringify(trimmed)} exists already`);
        return created;
      },
      updateTenant: async (_: unknown, { id, maxConcurrentExecutions }: { id: string; maxConcurrentExecutions?: number | null }, context: unknown) => {
        const limit = maxConcurrentExecutions ?? null;
        if (limit !== null && (!Number.isInteger(limit) || limit < 1 || limit > MAX_CONCURRENT_EXECUTIONS)) {
          throw new ApiError('BAD_USER_INPUT', `maxConcurrentExecutions must be between 1 and ${MAX_CONCURRENT_EXECUTIONS} (null: no limit), got ${limit}`);
        }
        const updated = mayReach(context, id) ? await tenants.setMaxConcurrentExecutions(id, limit) : null;
        if (!updated) throw new DomainError('NOT_FOUND', `tenant ${id} not found`);
        await engine.admission.tenantLimitChanged(id, limit);
        return updated;
      },
    },
  };
}
