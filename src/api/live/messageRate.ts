/**
 * How often each execution may send: `burst` messages at once, then one per `intervalMs` (a
 * token bucket, kept as one number per execution: when its next message would be due at the
 * sustained rate). An isolated change goes out at once; a busy execution sends at that rate.
 */
export class MessageRate {
  private readonly due = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {}

  /** Books the next message of the execution and says when it may go out. */
  book(executionId: string, now: number): number {
    const due = Math.max(this.due.get(executionId) ?? now, now);
    this.due.set(executionId, due + this.intervalMs);
    return Math.max(now, due - (this.burst - 1) * this.intervalMs);
  }

  /** Forgets executions quiet long enough to have their whole burst back: the same as never seen. */
  forgetQuiet(now: number): void {
    for (const [executionId, due] of this.due) if (due <= now) this.due.delete(executionId);
  }
}
