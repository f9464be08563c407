import { DomainError } from '../domain/errors.js';
import { identityOf, type Identity, type IdentityContext, type Role } from './identity.js';

/** The ladder of DESIGN section 8: each role may do all that the ones below it may. WORKER stands apart. */
const LADDER: readonly Role[] = ['VIEWER', 'OPERATOR', 'EDITOR', 'ADMIN'];

/** The fields a WORKER key may call (on its queues only); ADMIN may call them too. */
export const WORKER_FIELDS: ReadonlySet<string> = new Set(['claimNodes', 'completeNode', 'failNode', 'reportNodeProgress', 'releaseNode', 'nodeJobs']);

/**
 * The role each root field needs: the one table of who may do what. A field missing here is
 * refused to everyone but ADMIN, so that a new field is closed until someone decides.
 */
export const FIELD_ROLES: Readonly<Record<string, Role>> = {
  // Queries and subscriptions: reading.
  workflow: 'VIEWER',
  workflows: 'VIEWER',
  validateWorkflow: 'VIEWER',
  execution: 'VIEWER',
  executions: 'VIEWER',
  executionEvents: 'VIEWER',
  executionAt: 'VIEWER',
  executionDiff: 'VIEWER',
  nodeCausation: 'VIEWER',
  replayCheck: 'VIEWER',
  health: 'VIEWER',
  activeTriggers: 'VIEWER',
  nodeTypes: 'VIEWER',
  me: 'VIEWER',
  executionUpdated: 'VIEWER',
  workflowExecutions: 'VIEWER',
  // Running executions.
  startTrigger: 'OPERATOR',
  emitEvent: 'OPERATOR',
  pauseExecution: 'OPERATOR',
  resumeExecution: 'OPERATOR',
  cancelExecution: 'OPERATOR',
  retryNode: 'OPERATOR',
  skipNode: 'OPERATOR',
  rerunFromNode: 'OPERATOR',
  signalNode: 'OPERATOR',
  // Changing workflows.
  createWorkflow: 'EDITOR',
  updateWorkflow: 'EDITOR',
  // Keys, secrets, audit, tenants.
  secrets: 'ADMIN',
  setSecret: 'ADMIN',
  deleteSecret: 'ADMIN',
  createApiKey: 'ADMIN',
  revokeApiKey: 'ADMIN',
  apiKeys: 'ADMIN',
  auditLog: 'ADMIN',
  createTenant: 'ADMIN',
  tenants: 'ADMIN',
  updateTenant: 'ADMIN',
};

const rank = (role: Role): number => LADDER.indexOf(role);

/** Whether the identity may call the root field (its arguments are checked by the resolvers: a WORKER's queues). */
export function mayCall(identity: Identity, field: string): boolean {
  if (WORKER_FIELDS.has(field)) return identity.roles.includes('WORKER') || identity.roles.includes('ADMIN');
  const needed = FIELD_ROLES[field] ?? 'ADMIN';
  return identity.roles.some((role) => role !== 'WORKER' && rank(role) >= rank(needed));
}

/** Whether a WORKER identity may work on a queue (null queues: every one). Others may work on all. */
export function mayUseQueue(identity: Identity, queue: string): boolean {
  if (!identity.roles.includes('WORKER') || identity.roles.includes('ADMIN')) return true;
  return identity.queues === null || identity.queues.includes(queue);
}

/** The door of every root field (queries, mutations, subscriptions): UNAUTHENTICATED without an identity, FORBIDDEN without the role. */
export function checkMayCall(context: unknown, field: string): void {
  if (!mayCall(identityOf(context as IdentityContext), field)) throw new DomainError('FORBIDDEN', `${field} needs the role ${FIELD_ROLES[field] ?? 'ADMIN'}`);
}
