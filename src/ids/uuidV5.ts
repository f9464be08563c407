import { createHash } from 'node:crypto';

/**
 * A name-based UUID in the RFC 4122 version 5 layout: the SHA-1 of `chunks`, hashed in order,
 * with the version and variant bits set. The same chunks always give the same id, which is what
 * every caller wants: a retried append, a scheduler firing twice, a replayed trigger all derive
 * the id they derived before. Ids already stored depend on these bytes: never change them.
 */
export function uuidV5(chunks: ReadonlyArray<string | Uint8Array>): string {
  const sha1 = createHash('sha1');
  for (const chunk of chunks) sha1.update(chunk);
  const hash = sha1.digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
