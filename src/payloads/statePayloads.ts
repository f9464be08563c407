import type { ExecutionEvent } from '../domain/execution/events.js';
import type { ExecutionState, NodeState } from '../domain/execution/state.js';

type Data = Record<string, unknown>;

/**
 * Puts into a state folded from decided events the references their stored copies carry in place
 * of large values, so that a cached state holds what the store holds, not the values (memory stays
 * flat however many states are cached). The state is folded in place, so this patches in place
 * too, and only a field that still holds the decided event's very value.
 */
export function adoptStoredPayloads(state: ExecutionState, decided: readonly ExecutionEvent[], stored: readonly ExecutionEvent[]): void {
  decided.forEach((event, index) => {
    const copy = stored[index]!.data as Data;
    const data = event.data as Data;
    if (copy === data) return;
    if (event.type === 'ExecutionStarted') {
      if (state.triggerData === data.triggerData) state.triggerData = copy.triggerData;
      if (state.rerunFrom && state.rerunFrom === data.rerunFrom) state.rerunFrom = copy.rerunFrom as ExecutionState['rerunFrom'];
      return;
    }
    const node = typeof data.nodeId === 'string' ? state.nodes.get(data.nodeId) : undefined;
    if (!node) return;
    for (const key of ['input', 'output'] as const) if (key in data && node[key] === data[key]) (node as Pick<NodeState, 'input' | 'output'>)[key] = copy[key] as never;
  });
}
