import { DomainError } from '../../domain/errors.js';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Printable ASCII, as an HTTP header carries it, so a key means the same over GraphQL and on a webhook. */
const KEY_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/** The key, or BAD_USER_INPUT: 1 to 255 printable ASCII characters. */
export function checkIdempotencyKey(key: string): string {
  if (KEY_PATTERN.test(key)) return key;
  const problem = key.length > MAX_IDEMPOTENCY_KEY_LENGTH ? `is ${key.length} characters long` : 'is empty or holds characters other than printable ASCII';
  throw new DomainError('BAD_USER_INPUT', `idempotency key ${problem}: it must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
}

/**
 * The key of an `Idempotency-Key` header, with or without the quotes of the IETF draft's
 * structured-field form (`Idempotency-Key: "abc"` and `Idempotency-Key: abc` are one key).
 */
export function idempotencyKeyOfHeader(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(', ') : header;
  return /^"[^"\\]*"$/.test(value) ? value.slice(1, -1) : value;
}
