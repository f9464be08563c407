import { OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import { identityOf, type IdentityContext } from '../auth/identity.js';
import { mapPayloads, PAYLOAD_KEYS } from '../payloads/eventPayloads.js';
import type { Payloads } from '../payloads/payloads.js';

const mayView = (context: unknown): boolean => identityOf(context as IdentityContext).canViewPayloads;

/**
 * Large payloads are loaded only for a field that selects them. A subscription message shows
 * their references: its resolvers run synchronously, once per update for every subscriber
 * (sharedFrames), and a client that wants the value asks a query for it.
 */
const loads = (info: GraphQLResolveInfo): boolean => info.operation.operation !== OperationTypeNode.SUBSCRIPTION;

/**
 * Node inputs and outputs, the data a worker's job carries, and the payloads in recorded events.
 * Payloads are loaded from the caller's tenant: it sees only its own executions (another tenant's
 * answer NOT_FOUND), so that is the execution's.
 */
export function payloadResolvers(payloads: Payloads) {
  const tenantOf = (context: unknown) => identityOf(context as IdentityContext).tenantId;
  const shown = (value: unknown, context: unknown, info: GraphQLResolveInfo) => (loads(info) ? payloads.resolve(tenantOf(context), value) : value);

  /** A payload field that answers null to a VIEWER key without canViewPayloads (DESIGN section 8), in queries and subscription messages alike. */
  const payload =
    <T extends object>(field: keyof T) =>
    (parent: T, _: unknown, context: unknown, info: GraphQLResolveInfo) =>
      mayView(context) ? shown(parent[field] ?? null, context, info) : null;

  /** An event's data with its payloads null for whoever may not see them; the rest (ids, times, errors) as recorded. */
  function eventData({ data }: { data: Record<string, unknown> }, _: unknown, context: unknown, info: GraphQLResolveInfo): unknown {
    if (data === null || typeof data !== 'object') return data;
    if (mayView(context)) return loads(info) ? mapPayloads(data, async (value) => payloads.resolve(tenantOf(context), value)) : data;
    const hidden = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, PAYLOAD_KEYS.includes(key) ? null : value]));
    const rerunFrom = data.rerunFrom as { nodeId: string } | undefined;
    return rerunFrom ? { ...hidden, rerunFrom: { nodeId: rerunFrom.nodeId, input: null } } : hidden;
  }

  return {
    NodeExecutionState: { input: payload<{ input?: unknown }>('input'), output: payload<{ output?: unknown }>('output') },
    NodeJob: { input: payload<{ input?: unknown }>('input') },
    ExecutionEvent: { data: eventData },
  };
}
