import { uuidV5 } from '../../ids/uuidV5.js';
import type { AttemptKey } from './childStore.js';

/** A child's execution id, from its parent's attempt and its index: opening an attempt again (after a crash) starts the same children. */
export const childIdOf = ({ executionId, nodeId, attempt }: AttemptKey, index: number): string =>
  uuidV5(['cascade-subflow-child', '\u0000', executionId, '\u0000', nodeId, '\u0000', String(attempt), '\u0000', String(index)]);
