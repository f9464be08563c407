import { jsonProblem } from '../domain/jsonHygiene.js';
import { MAX_ID_LENGTH, MAX_MESSAGE_LENGTH } from '../domain/limits.js';
import { ApiError } from './errors.js';

/** Free-text arguments (and a secret's value); every other string argument is an id, a name or a cursor. */
const MESSAGE_ARGUMENTS: ReadonlySet<string> = new Set(['error', 'message', 'value']);

/**
 * The door of every query, mutation and subscription: each argument (variables and inline
 * literals alike, JSON scalars included) must be storable JSON (no NUL, no lone surrogate, not
 * nested past MAX_JSON_DEPTH) and each string argument within its length, so that bad input is a
 * BAD_USER_INPUT naming the argument instead of a failed append (500) further in.
 */
export function checkArguments(args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    const max = MESSAGE_ARGUMENTS.has(name) ? MAX_MESSAGE_LENGTH : MAX_ID_LENGTH;
    if (typeof value === 'string' && value.length > max) throw new ApiError('BAD_USER_INPUT', `argument ${name} must be at most ${max} characters, got ${value.length}`);
    const problem = jsonProblem(value);
    if (problem !== null) throw new ApiError('BAD_USER_INPUT', `argument ${name}: ${problem}`);
  }
}

type Resolver = (parent: unknown, args: Record<string, unknown>, ...rest: unknown[]) => unknown;

/** The same resolver, with its arguments checked first. */
export function withCheckedArguments<T extends Resolver>(resolve: T): T {
  return ((parent, args, ...rest) => {
    checkArguments(args);
    return resolve(parent, args, ...rest);
  }) as T;
}

/** Every resolver of a root type (Query, Mutation), checked. */
export function checkedRoot(resolvers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(resolvers).map(([field, resolve]) => [field, typeof resolve === 'function' ? withCheckedArguments(resolve as Resolver) : resolve]));
}
