/** One execution of a queue (a workflow's, or a limited tenant's) as admission sees it, in start order. */
export interface QueuedSlot {
  executionId: string;
  workflowId: string;
  state: 'QUEUED' | 'RUNNING';
  /** False for a start whose event is not recorded yet. */
  confirmed: boolean;
  /** Who started it; null (a schedule, an event, no user) is limited only by the workflow's and the tenant's limits. */
  userId: string | null;
  /** The limits of the workflow version it started with; null: none. */
  maxConcurrent: number | null;
  maxPerUser: number | null;
}

const workflowKey = (slot: QueuedSlot): string => JSON.stringify(['workflow', slot.workflowId]);
const userKey = (slot: QueuedSlot): string => JSON.stringify(['user', slot.workflowId, slot.userId]);

/**
 * The queued executions that may run now, first in, first out. The tenant's limit
 * (`tenantLimit`, when the queue is a tenant's) stops the whole queue; a workflow's limit stops
 * only that workflow's executions and a user's only that user's, and later executions of other
 * workflows or users go past them (each keeps its own order). Nothing goes past a start that is
 * not recorded yet and could run, so that no later start overtakes it; one whose workflow or
 * user is at the limit could not run anyway, and is passed as if recorded.
 */
export function admissible(slots: QueuedSlot[], tenantLimit: number | null = null): string[] {
  let running = 0;
  const runningOf = new Map<string, number>();
  const take = (slot: QueuedSlot) => {
    running += 1;
    for (const key of [workflowKey(slot), userKey(slot)]) runningOf.set(key, (runningOf.get(key) ?? 0) + 1);
  };
  for (const slot of slots) if (slot.state === 'RUNNING') take(slot);
  const waiting = new Set<string>();
  const atLimit = (key: string, limit: number | null) => waiting.has(key) || (runningOf.get(key) ?? 0) >= (limit ?? Infinity);
  const admitted: string[] = [];
  for (const slot of slots) {
    if (slot.state !== 'QUEUED') continue;
    if (running >= (tenantLimit ?? Infinity)) break;
    const [workflow, user] = [workflowKey(slot), userKey(slot)];
    if (atLimit(workflow, slot.maxConcurrent)) {
      waiting.add(workflow);
      continue;
    }
    if (slot.userId !== null && atLimit(user, slot.maxPerUser)) {
      waiting.add(user);
      continue;
    }
    if (!slot.confirmed) break;
    admitted.push(slot.executionId);
    take(slot);
  }
  return admitted;
}
