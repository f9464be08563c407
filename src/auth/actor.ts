import type { CommandContext } from '../commands/executionCommandHandler.js';
import { identityOf, type IdentityContext } from './identity.js';

/** The command context of a request: its identity's subject is the userId of the events it causes (and maxConcurrentExecutionsPerUser's user). */
export const actorOf = (context: unknown): CommandContext => ({ userId: identityOf(context as IdentityContext).subject });
