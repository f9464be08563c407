import type { NodeLog } from '../nodes/nodeType.js';

/** What stands where a secret's value was. */
export const MASK = '***';

/**
 * Secrets shorter than this are not masked: replacing every "a" or "1" in an output would
 * destroy it, and so short a value protects nothing anyway.
 */
const MIN_MASKED_LENGTH = 4;

/** The string with every occurrence of each value replaced by MASK, longest first (a value may contain another). */
function maskString(text: string, values: readonly string[]): string {
  let masked = text;
  for (const value of values) if (masked.includes(value)) masked = masked.split(value).join(MASK);
  return masked;
}

/**
 * A node's output or error with the secrets its attempt read masked out of every string (keys
 * too), as CI systems mask theirs in logs: an http node whose server echoes a header must not
 * put the token into the event log. The output's depth is bounded before this runs.
 */
export function maskSecrets<T>(value: T, secrets: readonly string[]): T {
  // Every outcome passes here, and most attempts read no secret.
  if (secrets.length === 0) return value;
  const values = [...new Set(secrets)].filter((each) => each.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length);
  return values.length === 0 ? value : (walk(value, values) as T);
}

function walk(value: unknown, values: readonly string[]): unknown {
  if (typeof value === 'string') return maskString(value, values);
  if (Array.isArray(value)) return value.map((each) => walk(each, values));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, each]) => [maskString(key, values), walk(each, values)]));
  return value;
}

/** A node's log whose lines (message and details) pass through `mask` first. */
export function maskedLog(log: NodeLog, mask: <T>(value: T) => T): NodeLog {
  const line = (level: keyof NodeLog) => (message: string, details?: Record<string, unknown>) => log[level](mask(message), details && mask(details));
  return { info: line('info'), warn: line('warn'), error: line('error') };
}
