import { identityOf, type IdentityContext } from '../auth/identity.js';

/** A payload field that answers null to a VIEWER key without canViewPayloads (DESIGN section 8), in queries and subscription messages alike. */
const payload =
  <T extends object>(field: keyof T) =>
  (parent: T, _: unknown, context: unknown) =>
    identityOf(context as IdentityContext).canViewPayloads ? (parent[field] ?? null) : null;

/** The keys of an event's data that carry payloads: trigger data, node inputs and outputs (events.ts). */
const PAYLOAD_KEYS = ['triggerData', 'input', 'output'];

/** An event's data with its payloads null for whoever may not see them; the rest (ids, times, errors) as recorded. */
function eventData({ data }: { data: Record<string, unknown> }, _: unknown, context: unknown): unknown {
  if (identityOf(context as IdentityContext).canViewPayloads || data === null || typeof data !== 'object') return data;
  const hidden = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, PAYLOAD_KEYS.includes(key) ? null : value]));
  const rerunFrom = data.rerunFrom as { nodeId: string } | undefined;
  return rerunFrom ? { ...hidden, rerunFrom: { nodeId: rerunFrom.nodeId, input: null } } : hidden;
}

/** Node inputs and outputs, the data a worker's job carries, and the payloads in recorded events. */
export const payloadResolvers = {
  NodeExecutionState: { input: payload<{ input?: unknown }>('input'), output: payload<{ output?: unknown }>('output') },
  NodeJob: { input: payload<{ input?: unknown }>('input') },
  ExecutionEvent: { data: eventData },
};
