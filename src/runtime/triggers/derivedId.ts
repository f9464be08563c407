import { createHash } from 'node:crypto';

/**
 * A UUID (version 5 layout) derived from its parts: a trigger that may fire the same occurrence
 * twice (a scheduler that crashed after firing, a replayed completion event) derives the same
 * execution id both times, and the second start is refused as a duplicate.
 */
export function derivedId(...parts: string[]): string {
  const hash = createHash('sha1').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
