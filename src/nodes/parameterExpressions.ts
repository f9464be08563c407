import jsonata from 'jsonata';

/**
 * `{{ <JSONata> }}` in a parameter string. The expression ends at the first `}}`, so an
 * expression cannot itself hold `}}` (a nested object literal is written `{ "a": { "b": 1 } }` with a space).
 */
const EXPRESSION = /\{\{([\s\S]*?)\}\}/g;

/** A parameter string as parts: literal text and expressions, in order. */
export type TemplatePart = { text: string } | { expression: string };

/** The parts of `value`, or null when it holds no expression. */
export function templateParts(value: string): TemplatePart[] | null {
  if (!value.includes('{{')) return null;
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of value.matchAll(EXPRESSION)) {
    if (match.index > last) parts.push({ text: value.slice(last, match.index) });
    parts.push({ expression: match[1]!.trim() });
    last = match.index + match[0].length;
  }
  if (parts.length === 0) return null;
  if (last < value.length) parts.push({ text: value.slice(last) });
  return parts;
}

/** Where in a parameter value an expression sits: a JSON pointer from the parameters' root, and its parts. */
export interface ExpressionSite {
  pointer: string;
  parts: TemplatePart[];
}

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** Every string holding an expression in `value` (parameters, at any depth), except under `skip` (top-level keys). */
export function expressionSites(value: unknown, skip: readonly string[] = [], pointer = ''): ExpressionSite[] {
  if (typeof value === 'string') {
    const parts = templateParts(value);
    return parts === null ? [] : [{ pointer, parts }];
  }
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  return entries.flatMap(([key, item]) => (pointer === '' && skip.includes(key) ? [] : expressionSites(item, [], `${pointer}/${escapePointer(key)}`)));
}

/** jsonata throws plain objects with a message, not Error instances. */
export function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
}

/** Why an expression does not parse, or null: parsing only, no evaluation. */
export function parseProblem(expression: string): string | null {
  if (expression.trim() === '') return 'is an empty expression';
  try {
    jsonata(expression);
    return null;
  } catch (error) {
    return `is not valid JSONata: ${messageOf(error)}`;
  }
}

/** Problems with the expressions of a parameter set, each named by where it is. */
export function expressionProblems(sites: readonly ExpressionSite[]): string[] {
  return sites.flatMap(({ pointer, parts }) =>
    parts.flatMap((part) => {
      if (!('expression' in part)) return [];
      const problem = parseProblem(part.expression);
      return problem === null ? [] : [`${pointer.slice(1).replaceAll('/', '.')}: {{ ${part.expression} }} ${problem}`];
    }),
  );
}
