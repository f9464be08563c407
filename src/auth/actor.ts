import type { CommandContext } from '../commands/executionCommandHandler.js';
import { identityOf, type IdentityContext } from './identity.js';

/**
 * The command context of a request: its identity's subject is the userId of the events it causes
 * (and maxConcurrentExecutionsPerUser's user), and its tenant the only one whose workflows and
 * executions the commands find (and the tenant of a workflow it creates).
 */
export const actorOf = (context: unknown): CommandContext => {
  const { subject, tenantId } = identityOf(context as IdentityContext);
  return { userId: subject, tenantId };
};

/** The caller's tenant: what every list, count and lookup of a request is scoped to. */
export const tenantOfCaller = (context: unknown): string => identityOf(context as IdentityContext).tenantId;
