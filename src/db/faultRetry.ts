import { isDatabaseFault } from './databaseFaults.js';

const FIRST_RETRY_MS = 100;
/** Longest wait between two tries: a failover takes seconds, and a loop should notice it is over soon after. */
const MAX_RETRY_MS = 5_000;

/** Capped exponential backoff after `failures` failed tries in a row. */
export const faultBackoffMs = (failures: number): number => Math.min(FIRST_RETRY_MS * 2 ** failures, MAX_RETRY_MS);

/**
 * Reports a database outage once, not once per retry of every loop and job that meets it: the
 * first fault is reported, later ones stay quiet until some unit of work succeeds again.
 */
export class OutageReporter<Context extends unknown[] = []> {
  private down = false;

  constructor(private readonly report: (error: unknown, ...context: Context) => void) {}

  /** Reports a database fault the first time in an outage; any other error every time. */
  failed(error: unknown, ...context: Context): void {
    if (!isDatabaseFault(error)) return this.report(error, ...context);
    if (this.down) return;
    this.down = true;
    this.report(error, ...context);
  }

  succeeded(): void {
    this.down = false;
  }
}

export interface FaultRetryOptions {
  outage: Pick<OutageReporter, 'failed' | 'succeeded'>;
  /** Checked before each wait: a stopping owner gets the fault instead of another try. */
  stopped?: () => boolean;
}

/**
 * Runs `work` again, with capped backoff, while it fails for a database fault: for units of work
 * that are safe to repeat (idempotent writes, commands decided again against a reloaded state).
 * Any other error is the work's own and goes to the caller at once.
 */
export async function retryDatabaseFaults<T>(work: () => Promise<T>, { outage, stopped }: FaultRetryOptions): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      const result = await work();
      outage.succeeded();
      return result;
    } catch (error) {
      if (!isDatabaseFault(error) || stopped?.()) throw error;
      outage.failed(error);
      await new Promise((resolve) => setTimeout(resolve, faultBackoffMs(failures)));
    }
  }
}
