import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Cron } from 'croner';
import { MAX_ID_LENGTH } from '../domain/limits.js';
import { expressionProblems, expressionSites, messageOf, parseProblem, type ExpressionSite } from './parameterExpressions.js';
import type { JsonSchema } from './nodeType.js';

const WEBHOOK_SEGMENT = /^[A-Za-z0-9\-_.]+$/;

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

/** Empty, '.' and '..' segments would be normalised away by HTTP clients and never match. */
const isWebhookPath = (value: string): boolean =>
  value.length <= MAX_ID_LENGTH && value.split('/').every((segment) => WEBHOOK_SEGMENT.test(segment) && segment !== '.' && segment !== '..');

/** croner accepts unknown time zones until the first run, so they are checked up front. */
function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** croner reads ':' as a one-off date and '?' as "the time at startup": neither is a stable schedule. */
function isRecurringCron(value: string): boolean {
  if (/[:?]/.test(value)) return false;
  try {
    new Cron(value, { paused: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * One validator for every node type. `problem` is an annotation of this engine: on a property
 * schema, it is the text shown when the value breaks any rule of that property, so that a
 * parameter is one problem in today's words ("ms must be an integer between 0 and ..."),
 * however many keywords it breaks. Formats name the checks JSON Schema cannot spell.
 */
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
ajv.addKeyword({ keyword: 'problem', schemaType: 'string' });
ajv.addFormat('http-url', isHttpUrl);
ajv.addFormat('webhook-path', isWebhookPath);
ajv.addFormat('time-zone', isTimeZone);
ajv.addFormat('cron', isRecurringCron);
ajv.addFormat('jsonata', (value: string) => parseProblem(value) === null);

/** Compiles a type's schema; a schema ajv refuses is the type's author's error, reported at registration. */
export function compileParameterSchema(type: string, schema: JsonSchema): ValidateFunction {
  try {
    return ajv.compile(schema);
  } catch (error) {
    throw new Error(`node type ${type}: its parameters are not a valid JSON Schema: ${messageOf(error)}`, { cause: error });
  }
}

/** The top-level parameter an error is about, for its `problem` text. */
function parameterOf(error: ErrorObject): string | undefined {
  if (error.keyword === 'required' && error.instancePath === '') return String(error.params.missingProperty);
  return error.instancePath.split('/')[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
}

function describe(error: ErrorObject, schema: JsonSchema): string {
  const name = parameterOf(error);
  const properties = (schema.properties ?? {}) as Record<string, { problem?: string }>;
  const problem = name === undefined ? undefined : properties[name]?.problem;
  if (problem !== undefined) return `${name} ${problem}`;
  if (error.instancePath === '' && error.keyword === 'type') return 'parameters must be an object';
  const where = error.instancePath === '' ? 'parameters' : error.instancePath.slice(1).replaceAll('/', '.');
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}

/** An error at or inside an expression's place is for the resolved value to answer. */
const atExpression = (error: ErrorObject, sites: readonly ExpressionSite[]): boolean =>
  sites.some(({ pointer }) => error.instancePath === pointer || error.instancePath.startsWith(`${pointer}/`));

/** Every problem of `parameters` against `validate`, once per parameter, in schema words. */
export function schemaProblems(validate: ValidateFunction, schema: JsonSchema, parameters: unknown, sites: readonly ExpressionSite[] = []): string[] {
  if (validate(parameters ?? {})) return [];
  const messages = (validate.errors ?? []).filter((error) => !atExpression(error, sites)).map((error) => describe(error, schema));
  return [...new Set(messages)];
}

/**
 * Parameters as saved: an expression must parse, and stands in for any value its schema allows
 * (it is checked again once resolved, when an attempt starts). `plain` names the parameters that
 * are JSONata themselves (if.condition), whose `{{` is no expression.
 */
export function savedParameterProblems(validate: ValidateFunction, schema: JsonSchema, parameters: unknown, plain: readonly string[]): string[] {
  // GraphQL JSON input may send null here despite the static type.
  const given = parameters ?? {};
  const sites = expressionSites(given, plain);
  return [...expressionProblems(sites), ...schemaProblems(validate, schema, given, sites)];
}
