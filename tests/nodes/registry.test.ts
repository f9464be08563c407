import { describe, expect, it } from 'vitest';
import { defineNodeType } from '../../src/index.js';
import { HTTP_NODE_DEFAULTS } from '../../src/nodes/http.js';
import { builtinNodeTypes, NodeTypeRegistry } from '../../src/nodes/registry.js';
import { BUILTIN_REGISTRY } from '../support/nodeTypes.js';

const checkNodeParameters = (type: string, parameters: unknown): string[] => BUILTIN_REGISTRY.get(type)!.checkParameters(parameters);

describe('the registry of node types', () => {
  it('lists every built-in type', () => {
    expect(
      BUILTIN_REGISTRY.list()
        .map((each) => each.type)
        .sort(),
    ).toEqual(
      [
        'trigger.manual',
        'trigger.webhook',
        'trigger.schedule',
        'trigger.event',
        'noop',
        'merge',
        'delay',
        'if',
        'transform',
        'http',
        'fail',
        'external',
        'wait',
        'approval',
        'workflow',
        'map',
      ].sort(),
    );
  });

  it.each([
    ['trigger.manual', 'trigger', false, ['default']],
    ['trigger.webhook', 'trigger', false, ['default']],
    ['trigger.schedule', 'trigger', false, ['default']],
    ['trigger.event', 'trigger', false, ['default']],
    ['noop', 'in-process', false, ['default']],
    ['merge', 'in-process', false, ['default']],
    ['if', 'in-process', false, ['true', 'false']],
    ['transform', 'in-process', false, ['default']],
    ['fail', 'in-process', false, ['default']],
    ['http', 'in-process', true, ['default']],
    ['delay', 'timer', false, ['default']],
    ['external', 'worker', true, ['default']],
    ['wait', 'wait', false, ['default']],
    ['approval', 'wait', false, ['approved', 'rejected']],
    ['workflow', 'child', true, ['default']],
    ['map', 'child', true, ['default']],
  ])('%s runs %s, side effects %s, outputs %j', (type, runs, sideEffects, outputs) => {
    expect(BUILTIN_REGISTRY.capabilities.get(type)).toMatchObject({ type, runs, sideEffects, outputs });
  });

  it('knows registered types only', () => {
    expect(BUILTIN_REGISTRY.get('merge')).toBeDefined();
    expect(BUILTIN_REGISTRY.get('custom.thing')).toBeUndefined();
    expect(BUILTIN_REGISTRY.get('trigger.unknown')).toBeUndefined();
  });

  const upper = defineNodeType({
    type: 'acme.upper',
    description: 'Upper-cases a field',
    parameters: { type: 'object', required: ['field'], properties: { field: { type: 'string', maxLength: 10 } }, additionalProperties: false },
    sideEffects: false,
    execute: async ({ input }) => ({ output: input }),
  });

  it('registers a user type with its capabilities, and checks its parameters against its schema', () => {
    const registry = new NodeTypeRegistry(builtinNodeTypes(HTTP_NODE_DEFAULTS), [upper]);
    expect(registry.capabilities.get('acme.upper')).toMatchObject({ runs: 'in-process', sideEffects: false, outputs: ['default'] });
    expect(registry.get('acme.upper')!.checkParameters({ field: 'name' })).toEqual([]);
    expect(registry.get('acme.upper')!.checkParameters({ field: 'x'.repeat(11), extra: 1 })).toEqual([
      'parameters must NOT have additional properties (extra)',
      'field must NOT have more than 10 characters',
    ]);
    expect(registry.get('acme.upper')!.checkParameters(undefined)).toEqual(["parameters must have required property 'field'"]);
  });

  it.each([
    ['a name without a namespace', { ...upper, type: 'upper' }, 'namespaced with a dot'],
    ["a built-in's name", { ...upper, type: 'http' }, 'namespaced with a dot'],
    ['a name taken twice', upper, 'registered twice'],
    ['a schema ajv refuses', { ...upper, type: 'acme.bad', parameters: { type: 'object', properties: { a: { type: 'strnig' } } } }, 'not a valid JSON Schema'],
  ])('refuses %s', (_, type, message) => {
    const types = type === upper ? [upper, upper] : [type];
    expect(() => new NodeTypeRegistry(builtinNodeTypes(HTTP_NODE_DEFAULTS), types)).toThrow(message);
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
  ['wait', {}, null],
  ['wait', { event: 'order.paid', match: 'event.id = trigger.id', timeoutMs: 60000 }, null],
  ['wait', { event: "{{ 'order.' & trigger.id }}", timeoutMs: '{{ trigger.ms }}' }, null],
  ['approval', { timeoutMs: 86400000 }, null],
  ['workflow', { workflowId: 'w', triggerNodeId: 'start', data: { any: 'thing' } }, null],
  ['map', { items: '{{ input.start.list }}', workflowId: 'w', triggerNodeId: 'start', concurrency: 100 }, null],
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
  ['trigger.schedule', undefined, 'cron must be a recurring cron pattern'],
  ['trigger.schedule', { cron: '61 * * * *' }, 'cron must be a recurring cron pattern'],
  ['trigger.schedule', { cron: 'every tuesday' }, 'cron must be a recurring cron pattern'],
  ['trigger.schedule', { cron: '* * *' }, 'cron must be a recurring cron pattern'],
  ['trigger.schedule', { cron: '2030-01-01T00:00:00' }, 'cron must be a recurring cron pattern'],
  ['trigger.schedule', { cron: '? * * * *' }, 'cron must be a recurring cron pattern'],
  ['trigger.schedule', { cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone must be'],
  ['trigger.event', {}, 'event must be a non-empty string'],
  ['trigger.event', { event: '  ' }, 'event must be a non-empty string'],
  ['delay', {}, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: -1 }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: '100' }, 'ms must be an integer between 0 and 31536000000'],
  ['delay', { ms: Number.POSITIVE_INFINITY }, 'ms must be an integer between 0 and 31536000000'],
  ['if', {}, 'condition must be a non-empty, valid JSONata expression'],
  ['if', { condition: 'input.a >' }, 'condition must be a non-empty, valid JSONata expression'],
  ['if', { condition: '(' }, 'condition must be a non-empty, valid JSONata expression'],
  ['transform', { mapping: 42 }, 'mapping must be a non-empty, valid JSONata expression'],
  ['transform', { mapping: '{ "a": }' }, 'mapping must be a non-empty, valid JSONata expression'],
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
  ['external', { queue: 'q'.repeat(257) }, 'queue must be a non-empty string of at most 256 characters'],
  ['trigger.event', { event: 'e'.repeat(257) }, 'event must be a non-empty string of at most 256 characters'],
  ['trigger.webhook', { path: 'p'.repeat(257) }, 'path must be a URL path of at most 256'],
  ['external', {}, 'queue must be a non-empty string'],
  ['wait', { event: '' }, 'event must be a non-empty string'],
  ['wait', { match: 'event.id =' }, 'match must be a non-empty, valid JSONata expression'],
  ['wait', { timeoutMs: 0 }, 'timeoutMs must be an integer between 1 and 31536000000'],
  ['approval', { timeoutMs: 365 * 24 * 3600 * 1000 + 1 }, 'timeoutMs must be an integer between 1 and 31536000000'],
  ['workflow', { triggerNodeId: 'start' }, 'workflowId'],
  ['map', { items: 'not an expression', workflowId: 'w', triggerNodeId: 'start' }, 'items must be an array'],
  ['map', { items: [], workflowId: 'w', triggerNodeId: 'start', concurrency: 101 }, 'concurrency must be an integer between 1 and 100'],
  ['noop', [1, 2], 'parameters must be an object'],
  ['delay', 'fast', 'parameters must be an object'],
];

describe('parameters as saved', () => {
  it.each(valid)('%s accepts %j', (type, parameters) => {
    expect(checkNodeParameters(type, parameters)).toEqual([]);
  });

  it.each(invalid)('%s rejects %j', (type, parameters, problem) => {
    const problems = checkNodeParameters(type, parameters);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('reports every problem of one node', () => {
    expect(checkNodeParameters('http', { url: 'nope', method: 'BREW', headers: [] })).toEqual([
      'url must be an absolute http(s) URL',
      'method must be one of GET, POST, PUT, PATCH, DELETE, HEAD',
      'headers must be an object of strings',
    ]);
  });

  it('takes an expression for any value its schema allows, once it parses', () => {
    expect(checkNodeParameters('http', { url: "{{ 'https://x.test/' & trigger.id }}", method: '{{ input.method }}', headers: '{{ input.headers }}' })).toEqual([]);
    expect(checkNodeParameters('delay', { ms: '{{ input.wait * 1000 }}' })).toEqual([]);
    expect(checkNodeParameters('http', { url: 'https://x.test/{{ trigger.id }}/items' })).toEqual([]);
  });

  it('names every expression that does not parse, and still checks the other parameters', () => {
    const problems = checkNodeParameters('http', { url: 'https://x.test/{{ trigger. }}', method: 'BREW', body: { nested: ['{{ }}'] } });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^url: \{\{ trigger\. \}\} is not valid JSONata/);
    expect(problems[1]).toBe('body.nested.0: {{  }} is an empty expression');
    expect(problems[2]).toBe('method must be one of GET, POST, PUT, PATCH, DELETE, HEAD');
  });

  it('leaves the JSONata of if.condition and transform.mapping as JSONata', () => {
    expect(checkNodeParameters('if', { condition: '{{ input }}' })).toEqual(['condition must be a non-empty, valid JSONata expression']);
    expect(checkNodeParameters('transform', { mapping: '{ "a": input.a }' })).toEqual([]);
  });
});
