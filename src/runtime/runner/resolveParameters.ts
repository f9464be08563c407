import { PermanentNodeError } from '../../nodes/nodeErrors.js';
import { expressionSites, templateParts, type TemplatePart } from '../../nodes/parameterExpressions.js';
import type { RegisteredNodeType } from '../../nodes/registry.js';
import type { AttemptScope } from './attemptScope.js';

/** A template's part as text: strings as they are, nothing as nothing, anything else as JSON. */
const asText = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));

async function resolveString(value: string, scope: AttemptScope): Promise<unknown> {
  const parts = templateParts(value);
  if (parts === null) return value;
  const only = parts.length === 1 ? parts[0]! : null;
  if (only !== null && 'expression' in only) return (await scope.evaluate(only.expression)) ?? null;
  const texts = await Promise.all(parts.map(async (part: TemplatePart) => ('text' in part ? part.text : asText(await scope.evaluate(part.expression)))));
  return texts.join('');
}

async function resolveValue(value: unknown, scope: AttemptScope): Promise<unknown> {
  if (typeof value === 'string') return resolveString(value, scope);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Promise.all(value.map((item) => resolveValue(item, scope)));
  const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await resolveValue(item, scope)] as const));
  return Object.fromEntries(entries);
}

/**
 * A node's parameters for one attempt: every `{{ }}` replaced by its value (a whole-value
 * expression) or its text (a template), then checked against the type's schema. Parameters
 * without expressions were checked when the workflow was saved and are given as they are.
 */
export async function resolveParameters(type: RegisteredNodeType, parameters: Record<string, unknown> | undefined, scope: AttemptScope): Promise<Record<string, unknown>> {
  const given = parameters ?? {};
  const plain = type.definition.expressionParameters ?? [];
  if (expressionSites(given, plain).length === 0) return given;
  const entries = await Promise.all(Object.entries(given).map(async ([key, value]) => [key, plain.includes(key) ? value : await resolveValue(value, scope)] as const));
  const resolved = Object.fromEntries(entries);
  const problems = type.resolvedProblems(resolved);
  if (problems.length > 0) throw new PermanentNodeError(`parameters of node ${type.type} once resolved: ${problems.join('; ')}`, 'INVALID_PARAMETERS');
  return resolved;
}
