import { DEFAULT_EXPRESSION_BOUNDS, type ExpressionBounds } from './expressionBounds.js';
import { ExpressionError } from './expressionError.js';
import { ExpressionPool, type ExpressionEvaluator } from './expressionPool.js';
import { IN_THREAD_BUDGET_MS, mayRunInThread } from './inThreadPath.js';
import { jsonataEvaluation } from './jsonataEvaluation.js';

/** Tries in this thread, each under the budget, while no worker has booted yet. */
const IN_THREAD_TRIES_WHILE_BOOTING = 4;

/**
 * Every expression under its bounds, the common ones without a thread hop: an expression that
 * may run in this thread (see inThreadPath) gets a budget of a few milliseconds here, with the
 * same depth, sequence and result bounds; past any of them it runs again, from the start, on
 * the worker pool under its full bounds (an expression has no side effects). A chain of
 * transforms pays no cross-thread round trip per step, and no expression holds this event loop
 * longer than the budget.
 */
export class BoundedEvaluator implements ExpressionEvaluator {
  private readonly pool: ExpressionPool;
  private readonly inThread: ReturnType<typeof jsonataEvaluation>;

  constructor(bounds: ExpressionBounds = DEFAULT_EXPRESSION_BOUNDS, pool = new ExpressionPool({ bounds })) {
    this.pool = pool;
    this.inThread = jsonataEvaluation({ ...bounds, timeoutMs: Math.min(IN_THREAD_BUDGET_MS, bounds.timeoutMs) });
  }

  async evaluate(expression: string, context: unknown, signal?: AbortSignal, bindings?: Record<string, unknown>): Promise<unknown> {
    if (signal?.aborted) throw signal.reason;
    if (mayRunInThread(expression)) {
      // A false alarm is common on a busy machine (the budget is wall time, and other work's
      // microtasks run between JSONata's steps): its trip to a worker must not wait for a boot
      // (0.3 s compiled, over a second from sources on a loaded machine), so the pool starts one
      // now, and while it boots an overrun tries here again, a few times, each under the budget.
      this.pool.warm();
      for (let tries = 1; ; tries++) {
        const reply = await this.inThread({ id: 0, expression, context, bindings });
        if (reply !== 'ready' && reply.ok) return reply.json === undefined ? undefined : JSON.parse(reply.json);
        if (reply !== 'ready' && !reply.limit) throw new ExpressionError(reply.message, false);
        if (this.pool.booted || tries >= IN_THREAD_TRIES_WHILE_BOOTING || signal?.aborted) break;
        // The event loop serves others between two tries.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return this.pool.evaluate(expression, context, signal, bindings);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
