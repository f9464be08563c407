import type { SqlExecutor } from '../../db/sqlClient.js';

/** The channel on which every process hears that a queue's jobs changed (the `nodeJobs` subscription). */
export const JOBS_CHANNEL = 'cascade_jobs';

/** An attempt of a worker-run node that ended without its worker: cancelled, failed, retried or released. */
export interface EndedAttempt {
  queue: string;
  executionId: string;
  nodeId: string;
  attempt: number;
}

/**
 * What a job notification says: jobs were offered on `queue` (they may be claimable now or from
 * their `available_at` on), or, with `ended`, that an attempt a worker of that queue may hold is over.
 */
export interface JobNotice {
  queue: string;
  ended?: Omit<EndedAttempt, 'queue'>;
}

/**
 * Notifies in the transaction that writes the jobs, so that listeners hear only of committed rows
 * (PostgreSQL delivers NOTIFY at commit) and in every process on the database.
 */
export async function notifyJobs(tx: SqlExecutor, offeredQueues: Iterable<string>, ended: EndedAttempt[]): Promise<void> {
  const notices: JobNotice[] = [...[...new Set(offeredQueues)].map((queue) => ({ queue })), ...ended.map(({ queue, ...attempt }) => ({ queue, ended: attempt }))];
  if (notices.length === 0) return;
  await tx.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [JOBS_CHANNEL, notices.map((notice) => JSON.stringify(notice))]);
}

/** Reads a notification's payload; anything else (an older or foreign writer) is no notice. */
export function parseJobNotice(payload: string): JobNotice | null {
  try {
    const notice = JSON.parse(payload) as Partial<JobNotice>;
    return typeof notice.queue === 'string' ? (notice as JobNotice) : null;
  } catch {
    return null;
  }
}
