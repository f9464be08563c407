import type { SqlExecutor } from '../../db/sqlClient.js';

/** The channel on which every process hears that a queue's jobs changed (the `nodeJobs` subscription). */
export const JOBS_CHANNEL = 'cascade_jobs';

/** A queue of a tenant: queues of the same name in two tenants are two queues. */
export interface TenantQueue {
  tenantId: string;
  queue: string;
}

/** An attempt of a worker-run node that ended without its worker: cancelled, failed, retried or released. */
export interface EndedAttempt extends TenantQueue {
  executionId: string;
  nodeId: string;
  attempt: number;
}

/**
 * What a job notification says: jobs were offered on `queue` (they may be claimable now or from
 * their `available_at` on), or, with `ended`, that an attempt a worker of that queue may hold is over.
 */
export interface JobNotice extends TenantQueue {
  ended?: Omit<EndedAttempt, 'queue' | 'tenantId'>;
}

/**
 * Notifies in the transaction that writes the jobs, so that listeners hear only of committed rows
 * (PostgreSQL delivers NOTIFY at commit) and in every process on the database.
 */
export async function notifyJobs(tx: SqlExecutor, offered: TenantQueue[], ended: EndedAttempt[]): Promise<void> {
  const offeredOnce = new Map(offered.map(({ tenantId, queue }) => [queueKey(tenantId, queue), { tenantId, queue }]));
  const notices: JobNotice[] = [...offeredOnce.values(), ...ended.map(({ tenantId, queue, ...attempt }) => ({ tenantId, queue, ended: attempt }))];
  if (notices.length === 0) return;
  await tx.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [JOBS_CHANNEL, notices.map((notice) => JSON.stringify(notice))]);
}

/** Reads a notification's payload; anything else (an older or foreign writer) is no notice. */
export function parseJobNotice(payload: string): JobNotice | null {
  try {
    const notice = JSON.parse(payload) as Partial<JobNotice>;
    return typeof notice.queue === 'string' && typeof notice.tenantId === 'string' ? (notice as JobNotice) : null;
  } catch {
    return null;
  }
}

/** One string per queue of a tenant (a map key). */
export const queueKey = (tenantId: string, queue: string): string => `${tenantId}\u0000${queue}`;
