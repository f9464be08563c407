import { identityOf, type IdentityContext } from '../auth/identity.js';

/** A payload field that answers null to a VIEWER key without canViewPayloads (DESIGN section 8), in queries and subscription messages alike. */
const payload =
  <T extends object>(field: keyof T) =>
  (parent: T, _: unknown, context: unknown) =>
    identityOf(context as IdentityContext).canViewPayloads ? (parent[field] ?? null) : null;

/** Node inputs and outputs, and the data a worker's job carries. */
export const payloadResolvers = {
  NodeExecutionState: { input: payload<{ input?: unknown }>('input'), output: payload<{ output?: unknown }>('output') },
  NodeJob: { input: payload<{ input?: unknown }>('input') },
};
