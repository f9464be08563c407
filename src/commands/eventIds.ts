import { createHash } from 'node:crypto';

/**
 * A deterministic UUID (name-based, SHA-1, RFC 4122 version 5 layout) for an event decided from
 * a given stream version: the same decision appended twice carries the same ids, so the store
 * keeps one copy; different decisions differ in content and so in id.
 */
export function eventId(streamId: string, baseVersion: number, index: number, type: string, data: unknown): string {
  const hash = createHash('sha1')
    .update(`${streamId}\u0000${baseVersion}\u0000${index}\u0000${type}\u0000`)
    .update(JSON.stringify(data) ?? '')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
