import type { ExecutionEvent } from '../domain/execution/events.js';
import type { Payloads } from './payloads.js';

/** The keys of an event's data that carry payloads: trigger data, node inputs and outputs (events.ts); a rerun's input sits under `rerunFrom`. */
export const PAYLOAD_KEYS: readonly string[] = ['triggerData', 'input', 'output'];

type Data = Record<string, unknown>;

/** Each payload of `data` through `convert`; the same object when none changed. */
export async function mapPayloads(data: Data, convert: (value: unknown) => Promise<unknown>): Promise<Data> {
  let changed: Data | null = null;
  for (const key of PAYLOAD_KEYS) {
    if (!(key in data)) continue;
    const converted = await convert(data[key]);
    if (converted !== data[key]) (changed ??= { ...data })[key] = converted;
  }
  const rerunFrom = data.rerunFrom as Data | undefined;
  if (rerunFrom) {
    const converted = await mapPayloads(rerunFrom, convert);
    if (converted !== rerunFrom) (changed ??= { ...data }).rerunFrom = converted;
  }
  return changed ?? data;
}

/**
 * The events as they are stored: their large payloads written to `payloads` and referred to.
 * The same array when nothing was large, so that the caller knows whether its state holds values
 * the store does not.
 */
export async function externalizeEvents(payloads: Payloads, tenantId: string, events: ExecutionEvent[]): Promise<ExecutionEvent[]> {
  let changed = false;
  const stored: ExecutionEvent[] = [];
  for (const event of events) {
    const data = await mapPayloads(event.data, (value) => payloads.externalize(tenantId, value));
    changed ||= data !== event.data;
    stored.push(data === event.data ? event : ({ type: event.type, data } as ExecutionEvent));
  }
  return changed ? stored : events;
}
