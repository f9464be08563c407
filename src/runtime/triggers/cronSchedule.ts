import { Cron } from 'croner';

/** A schedule node's time zone: its `timezone` parameter, or UTC (never the server's local zone). */
export const scheduleTimezone = (parameters: Record<string, unknown> | undefined): string => (typeof parameters?.timezone === 'string' ? parameters.timezone : 'UTC');

/** The first occurrence strictly after `after`, or null when the pattern has no more. */
export function nextOccurrence(cron: string, timezone: string, after: Date): Date | null {
  return new Cron(cron, { paused: true, timezone }).nextRun(after);
}
