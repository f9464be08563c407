import type { ApiDeps } from './apiDeps.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  database: { ok: boolean; latencyMs: number | null; error: string | null };
  projections: { caughtUp: boolean; lagMs: number | null };
  /** `recovering`: the server answers while it still resumes the executions it found unfinished at start. */
  runtime: { recovering: boolean };
}

/** Longer than this to catch up and the read model counts as lagging. */
const PROJECTION_TIMEOUT_MS = 2_000;

const elapsedSince = (start: number) => Math.round((performance.now() - start) * 10) / 10;

async function database(db: ApiDeps['db']): Promise<HealthReport['database']> {
  const start = performance.now();
  try {
    await db.query('SELECT 1');
    return { ok: true, latencyMs: elapsedSince(start), error: null };
  } catch (error) {
    return { ok: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The lag is how long the read model takes to apply everything committed before the check. */
async function projectionLag(projections: ApiDeps['projections'], timeoutMs: number): Promise<HealthReport['projections']> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const caughtUp = await Promise.race([
    projections.caughtUp().then(
      () => true,
      () => false,
    ),
    timedOut,
  ]).finally(() => clearTimeout(timer));
  return { caughtUp, lagMs: caughtUp ? elapsedSince(start) : null };
}

export async function checkHealth(
  { db, projections, engine }: Pick<ApiDeps, 'db' | 'projections'> & Partial<Pick<ApiDeps, 'engine'>>,
  timeoutMs = PROJECTION_TIMEOUT_MS,
): Promise<HealthReport> {
  const [databaseReport, lag] = await Promise.all([database(db), projectionLag(projections, timeoutMs)]);
  const runtime = { recovering: engine?.recovering ?? false };
  return { status: databaseReport.ok && lag.caughtUp ? 'ok' : 'degraded', database: databaseReport, projections: lag, runtime };
}
