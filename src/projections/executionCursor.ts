import { DomainError } from '../domain/errors.js';

/** Where a page of executions (newest first) ended: the last one's start and id. */
export interface ExecutionCursor {
  startedAt: string;
  id: string;
}

/** Opaque to clients, so the ordering key can change without breaking their contract. */
export const encodeCursor = (cursor: ExecutionCursor): string => Buffer.from(JSON.stringify([cursor.startedAt, cursor.id])).toString('base64url');

export function decodeCursor(text: string): ExecutionCursor {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [startedAt, id] = decoded as unknown[];
      if (typeof startedAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(startedAt))) return { startedAt, id };
    }
  } catch {
    // Not base64 JSON: reported below like any other malformed cursor.
  }
  throw new DomainError('BAD_USER_INPUT', `invalid cursor ${JSON.stringify(text)}`);
}
