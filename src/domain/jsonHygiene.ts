import { MAX_JSON_DEPTH } from './limits.js';
import { PAYLOAD_REFERENCE_KEY } from './payloadReference.js';

/**
 * Whether a value can be stored as it is: PostgreSQL refuses NUL characters in text and jsonb
 * and lone surrogates in jsonb, so either one would fail the append (a 500 at the API, a node
 * that never settles in the runner). The same holds for values JSON cannot carry (functions,
 * bigints, cycles, NaN) and for nesting past MAX_JSON_DEPTH (JSON.stringify and the database
 * recurse on it). One walk, linear in the size of the value (a shared object is checked once)
 * and iterative, so that a 100,000-deep value is refused rather than overflowing the stack.
 */

/** A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one. */
// eslint-disable-next-line no-control-regex -- finding NUL characters is the point
const UNSTORABLE_CHARACTER = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const UNSTORABLE_CHARACTERS = new RegExp(UNSTORABLE_CHARACTER.source, 'g');

/** The string with each NUL and lone surrogate replaced by U+FFFD: for messages built from what others sent (an error text), which are kept, not refused. */
export const storableString = (value: string): string => value.replace(UNSTORABLE_CHARACTERS, '\uFFFD');

/** Why a string cannot be stored, or null. */
export function stringProblem(value: string): string | null {
  const found = UNSTORABLE_CHARACTER.exec(value);
  if (found === null) return null;
  return found[0] === '\u0000' ? `contains a NUL character at position ${found.index}` : `contains a lone surrogate at position ${found.index}`;
}

function scalarProblem(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return stringProblem(value);
    case 'number':
      return Number.isFinite(value) ? null : `holds ${value}, which JSON cannot carry`;
    case 'boolean':
    case 'undefined':
    case 'object': // null: objects are walked, not checked here
      return null;
    default:
      return `holds a ${typeof value}, which JSON cannot carry`;
  }
}

interface Frame {
  value: object;
  depth: number;
  /** How many levels of objects this one spans, itself included, as far as its walk has come. */
  height: number;
  entries: Array<[string | null, unknown]>;
  next: number;
  /** How its parent holds it (`.key` or `[index]`): the path is built only for a problem. */
  step: string;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

function frameOf(value: object, depth: number, step: string): Frame {
  const entries: Array<[string | null, unknown]> = Array.isArray(value) ? value.map((each) => [null, each]) : Object.entries(value);
  return { value, depth, height: 1, entries, next: 0, step };
}

/** Keys are shortened, and a key with a problem is shown escaped, so that the message itself is storable. */
const stepOf = (key: string | null, index: number): string => {
  if (key === null) return `[${index}]`;
  const shown = key.length > 40 ? `${key.slice(0, 40)}...` : key;
  return stringProblem(shown) === null ? `.${shown}` : `[${JSON.stringify(shown)}]`;
};
const pathOf = (stack: readonly Frame[], last: string): string => `$${stack.map((frame) => frame.step).join('')}${last}`;

/**
 * Why `value` is not storable JSON, naming where (`$` is the value itself, `$.a[2]` a part), or
 * null when it is. Nesting counts objects and arrays: `[[1]]` is 2 deep; the bound is
 * MAX_JSON_DEPTH unless the caller says otherwise (node outputs: MAX_NODE_OUTPUT_DEPTH).
 */
export function jsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  if (!isObject(value)) return prefixed('$', scalarProblem(value));
  const heights = new Map<object, number>();
  const onPath = new Set<object>([value]);
  const stack: Frame[] = [frameOf(value, 1, '')];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.entries.length) {
      stack.pop();
      onPath.delete(top.value);
      heights.set(top.value, top.height);
      const parent = stack[stack.length - 1];
      if (parent) parent.height = Math.max(parent.height, top.height + 1);
      continue;
    }
    const index = top.next++;
    const [key, child] = top.entries[index]!;
    const step = stepOf(key, index);
    const keyIssue = key === null ? null : stringProblem(key);
    if (keyIssue !== null) return `${pathOf(stack, step)}: its key ${keyIssue}`;
    if (key === PAYLOAD_REFERENCE_KEY) return `${pathOf(stack, step)}: the key ${PAYLOAD_REFERENCE_KEY} is reserved (it marks a large payload's reference)`;
    if (!isObject(child)) {
      const issue = scalarProblem(child);
      if (issue !== null) return `${pathOf(stack, step)} ${issue}`;
      continue;
    }
    if (onPath.has(child)) return `${pathOf(stack, step)} refers back to an enclosing value (a cycle)`;
    const height = heights.get(child) ?? 1;
    if (top.depth + height > maxDepth) return `${pathOf(stack, step)} is nested deeper than ${maxDepth} levels`;
    if (heights.has(child)) {
      top.height = Math.max(top.height, height + 1);
      continue;
    }
    onPath.add(child);
    stack.push(frameOf(child, top.depth + 1, step));
  }
  return null;
}

function prefixed(path: string, issue: string | null): string | null {
  return issue === null ? null : `${path} ${issue}`;
}
