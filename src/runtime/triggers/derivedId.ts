import { uuidV5 } from '../../ids/uuidV5.js';

/**
 * A UUID (version 5 layout) derived from its parts: a trigger that may fire the same occurrence
 * twice (a scheduler that crashed after firing, a replayed completion event) derives the same
 * execution id both times, and the second start is refused as a duplicate.
 */
export function derivedId(...parts: string[]): string {
  return uuidV5([parts.join('\u0000')]);
}
