/**
 * A push-to-pull queue: a producer pushes values, one consumer pulls them with `for await`.
 * An async generator would not do here: its `return()` waits until the generator reaches its
 * next `yield`, so a client that disconnects while nothing is happening would leak the
 * subscription. `return()` here takes effect at once and runs `onClose` exactly once.
 */
export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<{ resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }> = [];
  private ending: { error: unknown } | 'done' | null = null;
  private closed = false;

  constructor(private readonly onClose: () => void = () => {}) {}

  push(value: T): void {
    if (this.closed || this.ending) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve({ value, done: false });
    else this.buffer.push(value);
  }

  /** The consumer gets what was pushed so far, then the end. */
  end(): void {
    this.finish('done');
  }

  /** The consumer gets what was pushed so far, then this error. */
  fail(error: unknown): void {
    this.finish({ error });
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.ending) {
      const ending = this.ending;
      this.close();
      return ending === 'done' ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(ending.error);
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The consumer is gone (the client unsubscribed or disconnected). */
  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(ending: { error: unknown } | 'done'): void {
    if (this.closed || this.ending) return;
    this.ending = ending;
    // A consumer already waiting has nothing buffered in front of it: it gets the end now.
    const waiters = this.waiting.splice(0);
    if (waiters.length === 0) return;
    this.close();
    for (const waiter of waiters) {
      if (ending === 'done') waiter.resolve({ value: undefined, done: true });
      else waiter.reject(ending.error);
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
    this.onClose();
  }
}
