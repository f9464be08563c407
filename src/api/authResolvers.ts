import { DomainError } from '../domain/errors.js';
import { DEFAULT_TENANT } from '../domain/tenants.js';
import { identityOf, ROLES, type IdentityContext, type Role } from '../auth/identity.js';
import type { AuditQuery } from '../auth/auditLog.js';
import type { ApiDeps } from './apiDeps.js';
import { ApiError } from './errors.js';

/** Keys per tenant not yet revoked, at most: each is a row every lookup may hit. */
export const MAX_API_KEYS_PER_TENANT = 1_000;
const MAX_KEY_NAME = 100;
const MAX_KEY_QUEUES = 100;

interface ApiKeyInput {
  name: string;
  roles: Role[];
  tenantId?: string | null;
  queues?: string[] | null;
  canViewPayloads?: boolean | null;
  expiresAt?: string | null;
}

function checkKeyInput(input: ApiKeyInput): void {
  const name = input.name.trim();
  if (name.length < 1 || name.length > MAX_KEY_NAME) throw new ApiError('BAD_USER_INPUT', `name must be 1 to ${MAX_KEY_NAME} characters`);
  if (input.roles.length === 0 || input.roles.some((role) => !ROLES.includes(role))) throw new ApiError('BAD_USER_INPUT', 'roles must name at least one role');
  if ((input.queues?.length ?? 0) > MAX_KEY_QUEUES) throw new ApiError('BAD_USER_INPUT', `queues must list at most ${MAX_KEY_QUEUES} queues`);
  if (input.expiresAt && Number.isNaN(Date.parse(input.expiresAt)))
    throw new ApiError('BAD_USER_INPUT', `expiresAt must be an ISO-8601 timestamp, got ${JSON.stringify(input.expiresAt)}`);
}

/** createApiKey, revokeApiKey, apiKeys, me, auditLog: all within the caller's tenant, but a default-tenant ADMIN making keys for another. */
export function authResolvers({ auth, db }: Pick<ApiDeps, 'auth' | 'db'>) {
  const { keys, authenticator, audit } = auth;
  const who = (context: unknown) => identityOf(context as IdentityContext);
  return {
    Query: {
      me: (_: unknown, __: unknown, context: unknown) => who(context),
      apiKeys: (_: unknown, __: unknown, context: unknown) => keys.list(who(context).tenantId),
      auditLog: (_: unknown, args: AuditQuery, context: unknown) => audit.page(who(context).tenantId, args),
    },
    Mutation: {
      createApiKey: async (_: unknown, { input }: { input: ApiKeyInput }, context: unknown) => {
        checkKeyInput(input);
        const identity = who(context);
        const tenantId = input.tenantId ?? identity.tenantId;
        if (tenantId !== identity.tenantId && identity.tenantId !== DEFAULT_TENANT) throw new ApiError('FORBIDDEN', 'keys of another tenant need an ADMIN of the tenant default');
        const { rows } = await db.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
        if (rows.length === 0) throw new DomainError('NOT_FOUND', `tenant ${tenantId} not found`);
        if ((await keys.countActive(tenantId)) >= MAX_API_KEYS_PER_TENANT)
          throw new ApiError('BAD_USER_INPUT', `a tenant has at most ${MAX_API_KEYS_PER_TENANT} keys; revoke one first`);
        return keys.create({ ...input, name: input.name.trim(), tenantId });
      },
      revokeApiKey: async (_: unknown, { id }: { id: string }, context: unknown) => {
        const revoked = await keys.revoke(who(context).tenantId, id);
        if (!revoked) throw new DomainError('NOT_FOUND', `api key ${id} not found`);
        authenticator.revoked(id);
        return revoked;
      },
    },
  };
}
