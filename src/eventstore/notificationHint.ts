import { passesFilter, type SubscriptionFilter } from './eventStore.js';

/** Channel notified by every append (see migrations/0001_event_store.sql), with the payload `<stream id>|<type>,<type>...`. */
export const EVENTS_CHANNEL = 'cascade_events';

/** What an append notification says was committed: one stream, these event types. */
export interface NotificationHint {
  streamId: string;
  types: string[];
}

/** Reads the payload `<stream id>|<type>,<type>...`; anything else (an older writer) is no hint. */
export function parseNotificationHint(payload: string): NotificationHint | null {
  const separator = payload.lastIndexOf('|');
  if (separator <= 0) return null;
  return { streamId: payload.slice(0, separator), types: payload.slice(separator + 1).split(',') };
}

/** Whether the committed events may pass the filter; without a hint, they may. */
export function mayMatch(filter: SubscriptionFilter | undefined, hint: NotificationHint | null): boolean {
  return !hint || hint.types.some((type) => passesFilter(filter, hint.streamId, type));
}
