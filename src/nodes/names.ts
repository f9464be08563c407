import { MAX_ID_LENGTH } from '../domain/limits.js';

/** Names (queues, events, workflow ids) are compared and indexed: bounded like every id. */
export const nameSchema = (description: string) =>
  ({ type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '\\S', description, problem: `must be a non-empty string of at most ${MAX_ID_LENGTH} characters` }) as const;
