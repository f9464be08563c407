/** One execution of a workflow's queue as admission sees it, in start order. */
export interface QueuedSlot {
  executionId: string;
  state: 'QUEUED' | 'RUNNING';
  /** False for a start whose event is not recorded yet. */
  confirmed: boolean;
  /** Who started it; null (a schedule, an event, no user) is limited only by the workflow's limit. */
  userId: string | null;
  /** The limits of the workflow version it started with; null: none. */
  maxConcurrent: number | null;
  maxPerUser: number | null;
}

/**
 * The queued executions that may run now, first in, first out. The workflow's limit stops the
 * whole queue; a user's limit stops only that user's executions, and later executions of other
 * users go past them (each user's own keep their order). Nothing goes past a start that is not
 * recorded yet and could run, so that no later start overtakes it; one whose user is at the
 * limit could not run anyway, and is passed as if recorded.
 */
export function admissible(slots: QueuedSlot[]): string[] {
  let running = 0;
  const runningOf = new Map<string | null, number>();
  for (const slot of slots) {
    if (slot.state === 'RUNNING') {
      running += 1;
      runningOf.set(slot.userId, (runningOf.get(slot.userId) ?? 0) + 1);
    }
  }
  const waitingUsers = new Set<string>();
  const admitted: string[] = [];
  for (const slot of slots) {
    if (slot.state !== 'QUEUED') continue;
    if (running >= (slot.maxConcurrent ?? Infinity)) break;
    const mine = runningOf.get(slot.userId) ?? 0;
    if (slot.userId !== null && (waitingUsers.has(slot.userId) || mine >= (slot.maxPerUser ?? Infinity))) {
      waitingUsers.add(slot.userId);
      continue;
    }
    if (!slot.confirmed) break;
    admitted.push(slot.executionId);
    running += 1;
    runningOf.set(slot.userId, mine + 1);
  }
  return admitted;
}
