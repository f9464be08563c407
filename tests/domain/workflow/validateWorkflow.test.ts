import { describe, expect, it } from 'vitest';
import { validateWorkflow, type ValidationResult } from '../../../src/domain/workflow/validateWorkflow.js';
import type { NodeDefinition, WorkflowDefinition } from '../../../src/domain/workflow/workflow.js';
import { chain, definition, edge, edges, node, trigger } from './fixtures.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';

type Issue = [type: string, nodes: string[]];

const summary = (issues: ValidationResult['errors']): Issue[] => issues.map(({ type, nodes }) => [type, nodes]);

const base = (extraNodes: NodeDefinition[] = [], extraEdges = ''): WorkflowDefinition =>
  definition([trigger('t'), node('a'), node('b'), ...extraNodes], edges(`t>a a>b ${extraEdges}`));

const webhook = (id: string, path: string): NodeDefinition => node(id, 'trigger.webhook', { parameters: { path } });

describe('validateWorkflow', () => {
  it('accepts a well-formed workflow', () => {
    const result = validateWorkflow(base(), { nodeTypes: BUILTIN_TYPES });
    expect(result).toEqual({
      isValid: true,
      errors: [],
      warnings: [],
      circularDependencies: [],
      unreachableNodes: [],
      orphanedNodes: [],
    });
  });

  const errorCases: Array<[string, WorkflowDefinition, Issue[]]> = [
    ['empty name', { ...base(), name: '  ' }, [['INVALID_NAME', []]]],
    ['empty node id', definition([trigger('t'), node('')], [edge('t', '')]), [['EMPTY_ID', []]]],
    ['duplicate node id', base([node('a', 'merge')]), [['DUPLICATE_NODE', ['a']]]],
    ['unknown node type', base([node('c', 'teleport')], 'b>c'), [['UNKNOWN_NODE_TYPE', ['c']]]],
    ['connection to an unknown node', base([], 'b>ghost'), [['MISSING_DEPENDENCY', ['b', 'ghost']]]],
    ['connection from an unknown node', base([], 'ghost>b'), [['MISSING_DEPENDENCY', ['ghost', 'b']]]],
    [
      'connection between two unknown nodes',
      base([], 'x>y'),
      [
        ['MISSING_DEPENDENCY', ['x', 'y']],
        ['MISSING_DEPENDENCY', ['x', 'y']],
      ],
    ],
    [
      'trigger with incoming connection',
      base([], 'b>t'),
      [
        ['TRIGGER_HAS_INCOMING', ['t', 'b']],
        ['CIRCULAR_DEPENDENCY', ['t', 'a', 'b']],
      ],
    ],
    ['no trigger', definition([node('a'), node('b')], edges('a>b')), [['NO_TRIGGER', []]]],
    ['cycle', base([], 'b>a'), [['CIRCULAR_DEPENDENCY', ['a', 'b']]]],
    ['self-loop', base([], 'b>b'), [['CIRCULAR_DEPENDENCY', ['b']]]],
    ['bad JSONata in if', base([node('c', 'if', { parameters: { condition: 'input >' } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['bad JSONata in transform', base([node('c', 'transform', { parameters: { mapping: '$sum(' } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['bad cron', definition([node('s', 'trigger.schedule', { parameters: { cron: '99 * * * *' } }), node('a')], edges('s>a')), [['INVALID_PARAMETERS', ['s']]]],
    ['bad URL', base([node('c', 'http', { parameters: { url: 'mailto:x@example.com' } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['negative delay', base([node('c', 'delay', { parameters: { ms: -5 } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    [
      'retry policy out of range',
      base([node('c', 'noop', { retry: { maxAttempts: 0, initialDelayMs: -1, backoffFactor: 0.5, maxDelayMs: -1 } })], 'b>c'),
      [
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
      ],
    ],
    ['fractional maxAttempts', base([node('c', 'noop', { retry: { maxAttempts: 1.5 } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['zero timeout', base([node('c', 'noop', { timeoutMs: 0 })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['a timeout over a week', base([node('c', 'noop', { timeoutMs: 7 * 86_400_000 + 1 })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['a delay of 1e300 ms', base([node('c', 'delay', { parameters: { ms: 1e300 } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['a backoffFactor of 1e308', base([node('c', 'noop', { retry: { maxAttempts: 3, backoffFactor: 1e308 } })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    [
      'retry policy above its maxima',
      base([node('c', 'noop', { retry: { maxAttempts: 101, initialDelayMs: 86_400_001, backoffFactor: 10.5, maxDelayMs: 1e12 } })], 'b>c'),
      [
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
      ],
    ],
    [
      'NaN and Infinity',
      base([node('c', 'noop', { timeoutMs: Number.NaN, retry: { maxAttempts: Number.POSITIVE_INFINITY } })], 'b>c'),
      [
        ['INVALID_PARAMETERS', ['c']],
        ['INVALID_PARAMETERS', ['c']],
      ],
    ],
    ['a node id longer than 256 characters', base([node('c'.repeat(257))], `b>${'c'.repeat(257)}`), [['ID_TOO_LONG', []]]],
    ['a node name longer than 256 characters', base([node('c', 'noop', { name: 'n'.repeat(257) })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['a workflow name longer than 256 characters', { ...base(), name: 'w'.repeat(257) }, [['INVALID_NAME', []]]],
    ['unknown trigger rule', base([node('c', 'noop', { triggerRule: 'SOMETIMES' as never })], 'b>c'), [['INVALID_PARAMETERS', ['c']]]],
    ['two webhook triggers on one path', definition([webhook('w1', 'orders'), webhook('w2', 'orders'), node('a')], edges('w1>a w2>a')), [['DUPLICATE_WEBHOOK_PATH', ['w1', 'w2']]]],
    [
      'if branch with an unknown output',
      definition([trigger('t'), node('i', 'if', { parameters: { condition: 'true' } }), node('x')], [edge('t', 'i'), edge('i', 'x', 'maybe')]),
      [['INVALID_SOURCE_OUTPUT', ['i', 'x']]],
    ],
  ];

  it.each(errorCases)('reports %s', (_, workflow, expected) => {
    const result = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES });
    expect(summary(result.errors)).toEqual(expected);
    expect(result.isValid).toBe(expected.length === 0);
    expect(result.errors.every((issue) => issue.severity === 'error')).toBe(true);
  });

  it.each([
    ['maxConcurrentExecutions', { maxConcurrentExecutions: 0 }],
    ['fractional maxConcurrentExecutions', { maxConcurrentExecutions: 1.5 }],
    ['executionTimeoutMs', { executionTimeoutMs: 0 }],
    ['maxRetryAttempts', { recovery: { maxRetryAttempts: -1 } }],
    ['maxConcurrentExecutions above 10,000', { maxConcurrentExecutions: 10_001 }],
    ['maxConcurrentExecutionsPerUser', { maxConcurrentExecutionsPerUser: 0 }],
    ['maxConcurrentExecutionsPerUser above 10,000', { maxConcurrentExecutionsPerUser: 10_001 }],
    ['executionTimeoutMs above 24 days', { executionTimeoutMs: 24 * 86_400_000 + 1 }],
    ['fractional executionTimeoutMs', { executionTimeoutMs: 1.5 }],
    ['maxRetryAttempts above 99', { recovery: { maxRetryAttempts: 100 } }],
  ])('reports INVALID_SETTINGS for %s', (_, settings) => {
    const result = validateWorkflow({ ...base(), settings }, { nodeTypes: BUILTIN_TYPES });
    expect(summary(result.errors)).toEqual([['INVALID_SETTINGS', []]]);
  });

  it('lists every bound a workflow breaks, each with its maximum', () => {
    const workflow = {
      ...base([node('c', 'delay', { parameters: { ms: 1e300 }, retry: { maxAttempts: 2, backoffFactor: 1e308 }, timeoutMs: 1e300 })], 'b>c'),
      settings: { maxConcurrentExecutions: 1e9, executionTimeoutMs: 1e300, recovery: { maxRetryAttempts: 1e9 } },
    };
    const messages = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES }).errors.map((issue) => issue.message);
    expect(messages).toEqual([
      expect.stringContaining('ms must be an integer between 0 and 31536000000'),
      expect.stringContaining('retry.backoffFactor must be a number between 1 and 10'),
      expect.stringContaining('timeoutMs must be an integer between 1 and 604800000'),
      'maxConcurrentExecutions must be an integer between 1 and 10000',
      'executionTimeoutMs must be an integer between 1 and 2073600000',
      'recovery.maxRetryAttempts must be an integer between 0 and 99',
    ]);
  });

  it('accepts every bound at its maximum', () => {
    const workflow = {
      ...base(
        [
          node('c', 'delay', {
            parameters: { ms: 31_536_000_000 },
            retry: { maxAttempts: 100, initialDelayMs: 86_400_000, backoffFactor: 10, maxDelayMs: 86_400_000 },
            timeoutMs: 604_800_000,
          }),
        ],
        'b>c',
      ),
      settings: { maxConcurrentExecutions: 10_000, executionTimeoutMs: 2_073_600_000, recovery: { maxRetryAttempts: 99 } },
    };
    expect(validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES }).errors).toEqual([]);
  });

  it('accepts sane settings and null optional fields', () => {
    const workflow = {
      ...base([node('c', 'noop', { retry: { maxAttempts: 3, initialDelayMs: 0, backoffFactor: 2, maxDelayMs: 1000 }, timeoutMs: 5 })], 'b>c'),
      settings: { maxConcurrentExecutions: 1, executionTimeoutMs: 1, recovery: { maxRetryAttempts: 0 } },
    };
    expect(validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES }).errors).toEqual([]);
    const withNulls = JSON.parse(JSON.stringify({ ...base(), settings: { executionTimeoutMs: null, recovery: { maxRetryAttempts: null } } })) as WorkflowDefinition;
    withNulls.nodes.push({ id: 'c', type: 'noop', parameters: null, retry: null, timeoutMs: null, triggerRule: null } as never);
    withNulls.connections.push(edge('b', 'c', null));
    expect(validateWorkflow(withNulls, { nodeTypes: BUILTIN_TYPES }).errors).toEqual([]);
  });

  const warningCases: Array<[string, WorkflowDefinition, Issue[], Pick<ValidationResult, 'unreachableNodes' | 'orphanedNodes'>]> = [
    [
      'unreachable nodes',
      base([node('x'), node('y')], 'x>y'),
      [
        ['UNREACHABLE_NODE', ['x']],
        ['UNREACHABLE_NODE', ['y']],
      ],
      { unreachableNodes: ['x', 'y'], orphanedNodes: [] },
    ],
    [
      'an orphaned node (also unreachable)',
      base([node('o')]),
      [
        ['UNREACHABLE_NODE', ['o']],
        ['ORPHANED_NODE', ['o']],
      ],
      { unreachableNodes: ['o'], orphanedNodes: ['o'] },
    ],
    ['a lone trigger', base([trigger('t2')]), [['ORPHANED_NODE', ['t2']]], { unreachableNodes: [], orphanedNodes: ['t2'] }],
    ['a duplicate connection', base([], 'a>b'), [['DUPLICATE_CONNECTION', ['a', 'b']]], { unreachableNodes: [], orphanedNodes: [] }],
    [
      'an unlabeled if branch',
      definition([trigger('t'), node('i', 'if', { parameters: { condition: 'true' } }), node('x'), node('y')], [edge('t', 'i'), edge('i', 'x', 'true'), edge('i', 'y', null)]),
      [['UNLABELED_BRANCH', ['i', 'y']]],
      { unreachableNodes: [], orphanedNodes: [] },
    ],
  ];

  it.each(warningCases)('warns about %s without failing', (_, workflow, expected, lists) => {
    const result = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
    expect(summary(result.warnings)).toEqual(expected);
    expect(result.warnings.every((issue) => issue.severity === 'warning')).toBe(true);
    expect({ unreachableNodes: result.unreachableNodes, orphanedNodes: result.orphanedNodes }).toEqual(lists);
  });

  it('treats differently labeled parallel connections as distinct', () => {
    const workflow = definition(
      [trigger('t'), node('i', 'if', { parameters: { condition: 'true' } }), node('x')],
      [edge('t', 'i'), edge('i', 'x', 'true'), edge('i', 'x', 'false')],
    );
    expect(validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES }).warnings).toEqual([]);
  });

  describe('circular dependencies', () => {
    it('reports every cycle with its path, including disjoint cycles and self-loops', () => {
      const workflow = definition([trigger('t'), node('a'), node('b'), node('c'), node('x'), node('y'), node('s')], edges('t>a a>b b>c c>a t>x x>y y>x t>s s>s'));
      const result = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES });
      expect(result.circularDependencies).toEqual([
        { nodes: ['a', 'b', 'c'], path: ['a', 'b', 'c', 'a'], severity: 'error' },
        { nodes: ['x', 'y'], path: ['x', 'y', 'x'], severity: 'error' },
        { nodes: ['s'], path: ['s', 's'], severity: 'error' },
      ]);
      expect(result.errors.map(({ type, message }) => [type, message])).toEqual([
        ['CIRCULAR_DEPENDENCY', 'Circular dependency: a -> b -> c -> a'],
        ['CIRCULAR_DEPENDENCY', 'Circular dependency: x -> y -> x'],
        ['CIRCULAR_DEPENDENCY', 'Circular dependency: s -> s'],
      ]);
      expect(result.isValid).toBe(false);
    });

    it('finds a cycle deep inside a bigger graph', () => {
      const workflow = definition([trigger('t'), ...'a b c d e f g'.split(' ').map((id) => node(id))], edges('t>a a>b a>c b>d c>d d>e e>f f>d f>g'));
      const result = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES });
      expect(result.circularDependencies).toEqual([{ nodes: ['d', 'e', 'f'], path: ['d', 'e', 'f', 'd'], severity: 'error' }]);
      expect(summary(result.errors)).toEqual([['CIRCULAR_DEPENDENCY', ['d', 'e', 'f']]]);
    });
  });

  describe('webhook paths', () => {
    const workflow = definition([webhook('w', 'orders/new'), node('a')], edges('w>a'));

    it('rejects a path another workflow owns', () => {
      const result = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES, webhookPathsInUse: new Map([['orders/new', 'wf-other']]) });
      expect(summary(result.errors)).toEqual([['DUPLICATE_WEBHOOK_PATH', ['w']]]);
      expect(result.errors[0]?.message).toContain('wf-other');
    });

    it('accepts a path no other workflow owns', () => {
      const result = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES, webhookPathsInUse: new Map([['orders/old', 'wf-other']]) });
      expect(result.isValid).toBe(true);
    });
  });

  it('collects problems of several kinds at once', () => {
    const workflow = definition([node('a'), node('a'), node('b', 'warp')], [edge('a', 'b'), edge('b', 'a'), edge('b', 'nowhere')], { name: '' });
    const types = validateWorkflow(workflow, { nodeTypes: BUILTIN_TYPES }).errors.map((issue) => issue.type);
    expect(types).toEqual(['INVALID_NAME', 'DUPLICATE_NODE', 'UNKNOWN_NODE_TYPE', 'MISSING_DEPENDENCY', 'NO_TRIGGER', 'CIRCULAR_DEPENDENCY']);
  });

  it('validates a 10,000-node chain without overflowing the stack', () => {
    const result = validateWorkflow(chain(10_000), { nodeTypes: BUILTIN_TYPES });
    expect(result.isValid).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('reports the cycle closing a 10,000-node chain', () => {
    const long = chain(10_000);
    long.connections.push(edge('n9999', 'n1'));
    const result = validateWorkflow(long, { nodeTypes: BUILTIN_TYPES });
    expect(result.circularDependencies).toHaveLength(1);
    expect(result.circularDependencies[0]?.path).toHaveLength(10_000);
  });
});
