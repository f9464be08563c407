import { describe, expect, it } from 'vitest';
import { NODE_TYPES, checkNodeParameters, isKnownNodeType, isTriggerType } from '../../../src/domain/workflow/nodeTypes.js';

describe('node type catalogue', () => {
  it('lists every built-in type', () => {
    expect([...NODE_TYPES.keys()].sort()).toEqual(
      ['trigger.manual', 'trigger.webhook', 'trigger.schedule', 'trigger.event', 'noop', 'merge', 'delay', 'if', 'transform', 'http', 'fail', 'external'].sort(),
    );
  });

  it.each([
    ['trigger.manual', true],
    ['trigger.webhook', true],
    ['trigger.schedule', true],
    ['trigger.event', true],
    ['noop', false],
    ['http', false],
    ['trigger.unknown', false],
    ['nope', false],
  ])('isTriggerType(%s) is %s', (type, expected) => {
    expect(isTriggerType(type)).toBe(expected);
  });

  it('knows built-in types only', () => {
    expect(isKnownNodeType('merge')).toBe(true);
    expect(isKnownNodeType('custom.thing')).toBe(false);
  });
});

type Case = [type: string, parameters: unknown, problem: string | null];

const valid: Case[] = [
  ['trigger.manual', undefined, null],
  ['trigger.webhook', { path: 'orders/new-v1.json' }, null],
  ['trigger.webhook', { path: 'hook', secret: 's3cret' }, null],
  ['trigger.schedule', { cron: '*/5 * * * *' }, null],
  ['trigger.schedule', { cron: '0 0 9 * * MON-FRI', timezone: 'Europe/Oslo' }, null],
  ['trigger.schedule', { cron: '@daily' }, null],
  ['trigger.event', { event: 'order.created' }, null],
  ['noop', undefined, null],
  ['merge', null, null],
  ['delay', { ms: 0 }, null],
  ['delay', { ms: 1500 }, null],
  ['if', { condition: 'input.a.amount > 100' }, null],
  ['transform', { mapping: '{ "total": $sum(input.*.amount) }' }, null],
  ['http', { url: 'https://example.com/api?q=1' }, null],
  ['http', { url: 'http://localhost:8080', method: 'POST' }, null],
  ['fail', undefined, null],
  ['fail', { failTimes: 2, message: 'boom' }, null],
  ['external', { queue: 'billing' }, null],
];

const invalid: Case[] = [
  ['trigger.webhook', undefined, 'path must be'],
  ['trigger.webhook', { path: '' }, 'path must be'],
  ['trigger.webhook', { path: 'has space' }, 'path must be'],
  ['trigger.webhook', { path: '/leading' }, 'path must be'],
  ['trigger.webhook', { path: 'a//b' }, 'path must be'],
  ['trigger.webhook', { path: 'a/../b' }, 'path must be'],
  ['trigger.webhook', { path: 'a?b=1' }, 'path must be'],
  ['trigger.webhook', { path: 'ok', secret: 42 }, 'secret must be a string'],
  ['trigger.schedule', undefined, 'cron must be a non-empty'],
  ['trigger.schedule', { cron: '61 * * * *' }, 'cron is not a valid cron expression'],
  ['trigger.schedule', { cron: 'every tuesday' }, 'cron is not a valid cron expression'],
  ['trigger.schedule', { cron: '* * *' }, 'cron is not a valid cron expression'],
  ['trigger.schedule', { cron: '2030-01-01T00:00:00' }, 'recurring pattern'],
  ['trigger.schedule', { cron: '? * * * *' }, 'recurring pattern'],
  ['trigger.schedule', { cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone must be'],
  ['trigger.event', {}, 'event must be a non-empty string'],
  ['trigger.event', { event: '  ' }, 'event must be a non-empty string'],
  ['delay', {}, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: -1 }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: '100' }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: Number.POSITIVE_INFINITY }, 'ms must be an integer between 0 and 31536000000'],
  ['if', {}, 'condition must be a non-empty JSONata expression'],
  ['if', { condition: 'input.a >' }, 'condition is not valid JSONata'],
  ['if', { condition: '(' }, 'condition is not valid JSONata'],
  ['transform', { mapping: 42 }, 'mapping must be a non-empty JSONata expression'],
  ['transform', { mapping: '{ "a": }' }, 'mapping is not valid JSONata'],
  ['http', {}, 'url must be an absolute http(s) URL'],
  ['http', { url: 'not a url' }, 'url must be an absolute http(s) URL'],
  ['http', { url: 'ftp://example.com/file' }, 'url must be an absolute http(s) URL'],
  ['http', { url: '/relative/path' }, 'url must be an absolute http(s) URL'],
  ['http', { url: 'https://example.com', method: 'FETCH' }, 'method must be one of'],
  ['http', { url: 'https://example.com', method: 'get' }, 'method must be one of'],
  ['fail', { failTimes: -1 }, 'failTimes must be an integer between 0 and 100'],
  ['fail', { failTimes: 1.5 }, 'failTimes must be an integer between 0 and 100'],
  ['fail', { failTimes: 101 }, 'failTimes must be an integer between 0 and 100'],
  ['delay', { ms: 1e300 }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: 365 * 24 * 3600 * 1000 + 1 }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: 1.5 }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: Number.NaN }, 'ms must be an integer between 0 and 31536000000'],
  ['external', { queue: 'q'.repeat(257) }, 'queue must be at most 256 characters'],
  ['trigger.event', { event: 'e'.repeat(257) }, 'event must be at most 256 characters'],
  ['trigger.webhook', { path: 'p'.repeat(257) }, 'path must be a URL path of at most 256'],
  ['external', {}, 'queue must be a non-empty string'],
  ['noop', [1, 2], 'parameters must be an object'],
  ['delay', 'fast', 'parameters must be an object'],
];

describe('checkNodeParameters', () => {
  it.each(valid)('%s accepts %j', (type, parameters) => {
    expect(checkNodeParameters(type, parameters)).toEqual([]);
  });

  it.each(invalid)('%s rejects %j', (type, parameters, problem) => {
    const problems = checkNodeParameters(type, parameters);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('reports every problem of one node', () => {
    expect(checkNodeParameters('http', { url: 'nope', method: 'BREW' })).toHaveLength(2);
  });

  it('leaves unknown types to the unknown-type check', () => {
    expect(checkNodeParameters('custom.thing', { anything: true })).toEqual([]);
  });
});
