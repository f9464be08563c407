import { jsonProblem } from '../domain/jsonHygiene.js';
import { MAX_ID_LENGTH, MAX_MESSAGE_LENGTH } from '../domain/limits.js';
import { ApiError } from './errors.js';
import type { AuditLog } from '../auth/auditLog.js';
import type { IdentityContext } from '../auth/identity.js';
import { checkMayCall } from '../auth/permissions.js';
import { DEFAULT_TENANT } from '../domain/tenants.js';

/** Free-text arguments (and a secret's value); every other string argument is an id, a name or a cursor. */
const MESSAGE_ARGUMENTS: ReadonlySet<string> = new Set(['error', 'message', 'value']);

/**
 * The door of every query, mutation and subscription: each argument (variables and inline
 * literals alike, JSON scalars included) must be storable JSON (no NUL, no lone surrogate, not
 * nested past MAX_JSON_DEPTH) and each string argument within its length, so that bad input is a
 * BAD_USER_INPUT naming the argument instead of a failed append (500) further in.
 */
export function checkArguments(args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    const max = MESSAGE_ARGUMENTS.has(name) ? MAX_MESSAGE_LENGTH : MAX_ID_LENGTH;
    if (typeof value === 'string' && value.length > max) throw new ApiError('BAD_USER_INPUT', `argument ${name} must be at most ${max} characters, got ${value.length}`);
    const problem = jsonProblem(value);
    if (problem !== null) throw new ApiError('BAD_USER_INPUT', `argument ${name}: ${problem}`);
  }
}

type Resolver = (parent: unknown, args: Record<string, unknown>, ...rest: unknown[]) => unknown;

/** The ids a mutation acted on, for the audit log: its id arguments, and the id of what it answered. */
const TARGET_ARGUMENTS = ['id', 'workflowId', 'executionId', 'nodeId', 'queue', 'name'];
function targetsOf(args: Record<string, unknown>, result: unknown): string[] {
  const targets = TARGET_ARGUMENTS.map((name) => args[name]).filter((value): value is string => typeof value === 'string');
  const answered = (result as { id?: unknown; apiKey?: { id?: unknown } } | null)?.id ?? (result as { apiKey?: { id?: unknown } } | null)?.apiKey?.id;
  if (typeof answered === 'string' && !targets.includes(answered)) targets.push(answered);
  return targets;
}

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
};

/**
 * Every resolver of a root type (Query, Mutation), behind the one door: the identity must hold
 * the field's role (permissions.ts, FORBIDDEN otherwise), the arguments must be sound, and each
 * mutation (accepted or refused) and each refused query is written to the audit log.
 */
export function checkedRoot(kind: 'Query' | 'Mutation', resolvers: Record<string, unknown>, audit: AuditLog): Record<string, unknown> {
  const door =
    (field: string, resolve: Resolver): Resolver =>
    async (parent, args, context, ...rest) => {
      const identity = (context as IdentityContext).identity;
      const entry = {
        actor: identity?.subject ?? 'anonymous',
        tenantId: identity?.tenantId ?? DEFAULT_TENANT,
        action: field,
        requestId: (context as { requestId?: string }).requestId ?? null,
      };
      try {
        checkMayCall(context, field);
        checkArguments(args);
        const result = await resolve(parent, args, context, ...rest);
        if (kind === 'Mutation') audit.record({ ...entry, targetIds: targetsOf(args, result), outcome: 'OK' });
        return result;
      } catch (error) {
        const outcome = codeOf(error);
        if (kind === 'Mutation' || outcome === 'FORBIDDEN' || outcome === 'UNAUTHENTICATED') audit.record({ ...entry, targetIds: targetsOf(args, null), outcome });
        throw error;
      }
    };
  return Object.fromEntries(Object.entries(resolvers).map(([field, resolve]) => [field, typeof resolve === 'function' ? door(field, resolve as Resolver) : resolve]));
}
