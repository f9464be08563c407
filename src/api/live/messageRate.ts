/**
 * How often each execution may send: `burst` messages at once, then one per `intervalMs` (a
 * token bucket, kept as one number per execution: when its next message would be due at the
 * sustained rate). An isolated change goes out at once; a busy execution sends at that rate.
 * A message that took long to write (thousands of sockets) makes the next one wait as long
 * (`rest`): writing one execution's messages never takes more than half of the event loop, so
 * the engine's own work and every other execution's messages go on between them.
 */
export class MessageRate {
  private readonly due = new Map<string, number>();
  private readonly resting = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {}

  /** Books the next message of the execution and says when it may go out. */
  book(executionId: string, now: number): number {
    const due = Math.max(this.due.get(executionId) ?? now, now);
    this.due.set(executionId, due + this.intervalMs);
    return Math.max(now, due - (this.burst - 1) * this.intervalMs, this.resting.get(executionId) ?? 0);
  }

  /** The execution's last message took `tookMs` to write: its next one waits at least as long after it. */
  rest(executionId: string, now: number, tookMs: number): void {
    if (tookMs >= 1) this.resting.set(executionId, now + tookMs);
  }

  /** Forgets executions quiet long enough to have their whole burst back: the same as never seen. */
  forgetQuiet(now: number): void {
    for (const [executionId, due] of this.due) if (due <= now) this.due.delete(executionId);
    for (const [executionId, until] of this.resting) if (until <= now) this.resting.delete(executionId);
  }
}
