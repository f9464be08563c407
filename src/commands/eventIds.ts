import { uuidV5 } from '../ids/uuidV5.js';

/**
 * A deterministic UUID (name-based, SHA-1, RFC 4122 version 5 layout) for an event decided from
 * a given stream version: the same decision appended twice carries the same ids, so the store
 * keeps one copy; different decisions differ in content and so in id.
 */
export function eventId(streamId: string, baseVersion: number, index: number, type: string, data: unknown): string {
  return uuidV5([`${streamId}\u0000${baseVersion}\u0000${index}\u0000${type}\u0000`, JSON.stringify(data) ?? '']);
}
