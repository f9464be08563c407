import jsonata from 'jsonata';
import { Cron } from 'croner';
import { MAX_DELAY_MS, MAX_FAIL_TIMES, MAX_ID_LENGTH } from '../limits.js';

type Parameters = Readonly<Record<string, unknown>>;
/** Returns human-readable problems; empty when the parameters are acceptable. */
export type ParameterCheck = (parameters: Parameters) => string[];

export interface NodeTypeSpec {
  readonly type: string;
  readonly trigger: boolean;
  readonly checkParameters: ParameterCheck;
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

const WEBHOOK_SEGMENT = /^[A-Za-z0-9\-_.]+$/;

const noParameters: ParameterCheck = () => [];

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isIntegerUpTo(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function messageOf(error: unknown): string {
  // jsonata throws plain objects with a message, not Error instances.
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
    return error.message;
  }
  return String(error);
}

/** Names (queues, events, workflow ids) are compared and indexed: bounded like every id. */
function nonEmptyName(key: string): ParameterCheck {
  return (p) => {
    const value = p[key];
    if (!isNonEmptyString(value)) return [`${key} must be a non-empty string`];
    return value.length > MAX_ID_LENGTH ? [`${key} must be at most ${MAX_ID_LENGTH} characters`] : [];
  };
}

function jsonataExpression(key: string): ParameterCheck {
  return (p) => {
    const expression = p[key];
    if (!isNonEmptyString(expression)) return [`${key} must be a non-empty JSONata expression`];
    try {
      jsonata(expression);
      return [];
    } catch (error) {
      return [`${key} is not valid JSONata: ${messageOf(error)}`];
    }
  };
}

function isTimeZone(value: unknown): value is string {
  if (!isNonEmptyString(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function cronProblem(cron: unknown, timezone: string | undefined): string | undefined {
  if (!isNonEmptyString(cron)) return 'cron must be a non-empty cron expression';
  // croner reads ':' as a one-off date and '?' as "the time at startup": neither is a stable schedule.
  if (/[:?]/.test(cron)) return 'cron must be a recurring pattern without ":" or "?"';
  try {
    new Cron(cron, { paused: true, timezone });
    return undefined;
  } catch (error) {
    return `cron is not a valid cron expression: ${messageOf(error)}`;
  }
}

const checkSchedule: ParameterCheck = (p) => {
  const { cron, timezone } = p;
  // croner accepts unknown time zones until the first run, so they are checked up front.
  const zoneOk = timezone === undefined || isTimeZone(timezone);
  const problems = zoneOk ? [] : ['timezone must be an IANA time zone name'];
  const cronIssue = cronProblem(cron, zoneOk ? timezone : undefined);
  return cronIssue === undefined ? problems : [...problems, cronIssue];
};

function isWebhookPath(value: unknown): boolean {
  if (!isNonEmptyString(value) || value.length > MAX_ID_LENGTH) return false;
  // Empty, '.' and '..' segments would be normalised away by HTTP clients and never match.
  return value.split('/').every((segment) => WEBHOOK_SEGMENT.test(segment) && segment !== '.' && segment !== '..');
}

const checkWebhook: ParameterCheck = (p) => [
  ...(isWebhookPath(p.path) ? [] : [`path must be a URL path of at most ${MAX_ID_LENGTH} letters, digits and "-_/." without empty segments`]),
  ...(p.secret === undefined || typeof p.secret === 'string' ? [] : ['secret must be a string']),
];

/** `workflowId` (optional) narrows an event trigger to events whose data names that workflow (execution.*). */
const checkEventTrigger: ParameterCheck = (p) => [...nonEmptyName('event')(p), ...(p.workflowId === undefined ? [] : nonEmptyName('workflowId')(p))];

const checkDelay: ParameterCheck = (p) => (isIntegerUpTo(p.ms, MAX_DELAY_MS) ? [] : [`ms must be an integer between 0 and ${MAX_DELAY_MS}`]);

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const checkHttp: ParameterCheck = (p) => [
  ...(isHttpUrl(p.url) ? [] : ['url must be an absolute http(s) URL']),
  ...(p.method === undefined || (HTTP_METHODS as readonly unknown[]).includes(p.method) ? [] : [`method must be one of ${HTTP_METHODS.join(', ')}`]),
];

const checkFail: ParameterCheck = (p) =>
  p.failTimes === undefined || isIntegerUpTo(p.failTimes, MAX_FAIL_TIMES) ? [] : [`failTimes must be an integer between 0 and ${MAX_FAIL_TIMES}`];

const SPECS: readonly NodeTypeSpec[] = [
  { type: 'trigger.manual', trigger: true, checkParameters: noParameters },
  { type: 'trigger.webhook', trigger: true, checkParameters: checkWebhook },
  { type: 'trigger.schedule', trigger: true, checkParameters: checkSchedule },
  { type: 'trigger.event', trigger: true, checkParameters: checkEventTrigger },
  { type: 'noop', trigger: false, checkParameters: noParameters },
  { type: 'merge', trigger: false, checkParameters: noParameters },
  { type: 'delay', trigger: false, checkParameters: checkDelay },
  { type: 'if', trigger: false, checkParameters: jsonataExpression('condition') },
  { type: 'transform', trigger: false, checkParameters: jsonataExpression('mapping') },
  { type: 'http', trigger: false, checkParameters: checkHttp },
  { type: 'fail', trigger: false, checkParameters: checkFail },
  { type: 'external', trigger: false, checkParameters: nonEmptyName('queue') },
];

export const NODE_TYPES: ReadonlyMap<string, NodeTypeSpec> = new Map(SPECS.map((spec) => [spec.type, spec]));

export function isKnownNodeType(type: string): boolean {
  return NODE_TYPES.has(type);
}

export function isTriggerType(type: string): boolean {
  return NODE_TYPES.get(type)?.trigger === true;
}

/** Problems with a node's parameters; unknown types yield none (they are reported as unknown instead). */
export function checkNodeParameters(type: string, parameters: unknown): string[] {
  const spec = NODE_TYPES.get(type);
  if (spec === undefined) return [];
  // GraphQL JSON input may send null or a non-object here despite the static type.
  if (parameters === undefined || parameters === null) return spec.checkParameters({});
  if (typeof parameters !== 'object' || Array.isArray(parameters)) return ['parameters must be an object'];
  return spec.checkParameters(parameters as Parameters);
}
