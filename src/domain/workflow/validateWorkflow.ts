import { findCycles, type CircularDependency } from './cycles.js';
import { WorkflowGraph } from './graph.js';
import {
  MAX_ATTEMPTS,
  MAX_BACKOFF_FACTOR,
  MAX_CONCURRENT_EXECUTIONS,
  MAX_EXECUTION_TIMEOUT_MS,
  MAX_ID_LENGTH,
  MAX_NODE_TIMEOUT_MS,
  MAX_RETRY_ATTEMPTS,
  MAX_RETRY_DELAY_MS,
} from '../limits.js';
import type { NodeCapabilities, NodeTypeLookup } from './nodeCapabilities.js';
import { TRIGGER_RULES, type Connection, type NodeDefinition, type RetryPolicy, type WorkflowDefinition, type WorkflowSettings } from './workflow.js';

export type { CircularDependency } from './cycles.js';

export interface DependencyError {
  type: string;
  nodes: string[];
  message: string;
  severity: 'error' | 'warning';
}

export interface ValidationResult {
  isValid: boolean;
  errors: DependencyError[];
  warnings: DependencyError[];
  circularDependencies: CircularDependency[];
  unreachableNodes: string[];
  orphanedNodes: string[];
}

export interface ValidateWorkflowOptions {
  /** The registered node types: their parameter checks, outputs and triggers. */
  nodeTypes: NodeTypeLookup;
  /** Webhook path -> id of the workflow owning it, excluding the workflow being validated. */
  webhookPathsInUse?: ReadonlyMap<string, string>;
}

const error = (type: string, nodes: string[], message: string): DependencyError => ({
  type,
  nodes,
  message,
  severity: 'error',
});

const warning = (type: string, nodes: string[], message: string): DependencyError => ({
  type,
  nodes,
  message,
  severity: 'warning',
});

// Optional fields arrive as null from GraphQL input, so "absent" means null or undefined.
const absent = (value: unknown): value is null | undefined => value === null || value === undefined;
// Number.isInteger and Number.isFinite are false for NaN and Infinity, so neither ever passes.
const isIntegerBetween = (value: unknown, min: number, max: number): boolean => Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
const isNumberBetween = (value: unknown, min: number, max: number): boolean => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
const isTooLong = (value: unknown): boolean => typeof value === 'string' && value.length > MAX_ID_LENGTH;

function checkName(definition: WorkflowDefinition): DependencyError[] {
  const { name } = definition;
  if (typeof name !== 'string' || name.trim() === '') return [error('INVALID_NAME', [], 'Workflow name must be a non-empty string')];
  return isTooLong(name) ? [error('INVALID_NAME', [], `Workflow name must be at most ${MAX_ID_LENGTH} characters`)] : [];
}

function checkNodeIds(nodes: readonly NodeDefinition[]): DependencyError[] {
  const counts = new Map<string, number>();
  const issues: DependencyError[] = [];
  nodes.forEach((node, position) => {
    if (typeof node.id !== 'string' || node.id.trim() === '') {
      issues.push(error('EMPTY_ID', [], `Node at position ${position} has an empty id`));
    } else if (isTooLong(node.id)) {
      issues.push(error('ID_TOO_LONG', [], `Node at position ${position} has an id longer than ${MAX_ID_LENGTH} characters`));
    }
    counts.set(node.id, (counts.get(node.id) ?? 0) + 1);
  });
  for (const [id, count] of counts) {
    if (count > 1) issues.push(error('DUPLICATE_NODE', [id], `Node id '${id}' is used by ${count} nodes`));
  }
  return issues;
}

function retryProblems(retry: RetryPolicy): string[] {
  const { maxAttempts, initialDelayMs, backoffFactor, maxDelayMs } = retry;
  return [
    isIntegerBetween(maxAttempts, 1, MAX_ATTEMPTS) ? undefined : `retry.maxAttempts must be an integer between 1 and ${MAX_ATTEMPTS}`,
    absent(initialDelayMs) || isIntegerBetween(initialDelayMs, 0, MAX_RETRY_DELAY_MS) ? undefined : `retry.initialDelayMs must be an integer between 0 and ${MAX_RETRY_DELAY_MS}`,
    absent(maxDelayMs) || isIntegerBetween(maxDelayMs, 0, MAX_RETRY_DELAY_MS) ? undefined : `retry.maxDelayMs must be an integer between 0 and ${MAX_RETRY_DELAY_MS}`,
    absent(backoffFactor) || isNumberBetween(backoffFactor, 1, MAX_BACKOFF_FACTOR) ? undefined : `retry.backoffFactor must be a number between 1 and ${MAX_BACKOFF_FACTOR}`,
  ].filter((problem) => problem !== undefined);
}

function nodeProblems(node: NodeDefinition, capabilities: NodeCapabilities): string[] {
  const problems = capabilities.checkParameters(node.parameters);
  if (!absent(node.retry)) problems.push(...retryProblems(node.retry));
  if (!absent(node.timeoutMs) && !isIntegerBetween(node.timeoutMs, 1, MAX_NODE_TIMEOUT_MS)) {
    problems.push(`timeoutMs must be an integer between 1 and ${MAX_NODE_TIMEOUT_MS}`);
  }
  if (isTooLong(node.name)) problems.push(`name must be at most ${MAX_ID_LENGTH} characters`);
  if (!absent(node.triggerRule) && !(TRIGGER_RULES as readonly string[]).includes(node.triggerRule)) {
    problems.push(`triggerRule must be one of ${TRIGGER_RULES.join(', ')}`);
  }
  return problems;
}

function checkNode(node: NodeDefinition, nodeTypes: NodeTypeLookup): DependencyError[] {
  const capabilities = nodeTypes.get(node.type);
  if (capabilities === undefined) {
    return [error('UNKNOWN_NODE_TYPE', [node.id], `Node '${node.id}' has unknown type '${node.type}'`)];
  }
  return nodeProblems(node, capabilities).map((problem) => error('INVALID_PARAMETERS', [node.id], `Node '${node.id}' (${node.type}): ${problem}`));
}

function describe(connection: Connection): string {
  return `${connection.source} -> ${connection.target}`;
}

function checkConnectionEnds(connections: readonly Connection[], graph: WorkflowGraph): DependencyError[] {
  return connections.flatMap((connection) =>
    [connection.source, connection.target]
      .filter((id) => !graph.has(id))
      .map((id) => error('MISSING_DEPENDENCY', [connection.source, connection.target], `Connection ${describe(connection)} references unknown node '${id}'`)),
  );
}

function checkDuplicateConnections(connections: readonly Connection[]): DependencyError[] {
  const counts = new Map<string, { connection: Connection; count: number }>();
  for (const connection of connections) {
    const key = JSON.stringify([connection.source, connection.target, connection.sourceOutput ?? null]);
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { connection, count: 1 });
    else entry.count++;
  }
  return [...counts.values()]
    .filter(({ count }) => count > 1)
    .map(({ connection, count }) => warning('DUPLICATE_CONNECTION', [connection.source, connection.target], `Connection ${describe(connection)} is defined ${count} times`));
}

/** A type with several outputs (an if) branches: its connections say which output they follow. */
function checkBranchLabels(connections: readonly Connection[], graph: WorkflowGraph, nodeTypes: NodeTypeLookup): DependencyError[] {
  return connections.flatMap((connection) => {
    const type = graph.node(connection.source)?.type;
    const outputs = type === undefined ? undefined : nodeTypes.get(type)?.outputs;
    if (outputs === undefined || outputs.length < 2) return [];
    const { sourceOutput } = connection;
    const nodes = [connection.source, connection.target];
    if (absent(sourceOutput)) {
      return [warning('UNLABELED_BRANCH', nodes, `Connection ${describe(connection)} runs on every branch of the ${type}`)];
    }
    if (outputs.includes(sourceOutput)) return [];
    const names = outputs.map((name) => `'${name}'`).join(' or ');
    return [error('INVALID_SOURCE_OUTPUT', nodes, `Connection ${describe(connection)} uses output '${sourceOutput}'; a ${type} node only takes ${names}`)];
  });
}

function checkTriggers(graph: WorkflowGraph): DependencyError[] {
  const triggers = graph.triggers();
  if (triggers.length === 0) return [error('NO_TRIGGER', [], 'Workflow has no trigger node')];
  return triggers
    .filter((id) => graph.dependencies(id).length > 0)
    .map((id) => error('TRIGGER_HAS_INCOMING', [id, ...graph.dependencies(id)], `Trigger '${id}' has incoming connections`));
}

function checkWebhookPaths(nodes: readonly NodeDefinition[], pathsInUse: ReadonlyMap<string, string>, nodeTypes: NodeTypeLookup): DependencyError[] {
  const owners = new Map<string, string[]>();
  for (const node of nodes) {
    const path = nodeTypes.get(node.type)?.webhookPath?.(node);
    if (path === undefined) continue;
    const ids = owners.get(path);
    if (ids === undefined) owners.set(path, [node.id]);
    else ids.push(node.id);
  }
  return [...owners].flatMap(([path, ids]) => {
    const otherWorkflow = pathsInUse.get(path);
    return [
      ...(ids.length > 1 ? [error('DUPLICATE_WEBHOOK_PATH', ids, `Webhook path '${path}' is used by ${ids.length} triggers`)] : []),
      ...(otherWorkflow !== undefined ? [error('DUPLICATE_WEBHOOK_PATH', ids, `Webhook path '${path}' is already used by workflow '${otherWorkflow}'`)] : []),
    ];
  });
}

function checkSettings(settings: WorkflowSettings | null | undefined): DependencyError[] {
  if (absent(settings)) return [];
  const { maxConcurrentExecutions, maxConcurrentExecutionsPerUser, executionTimeoutMs } = settings;
  const maxRetryAttempts = settings.recovery?.maxRetryAttempts;
  return [
    absent(maxConcurrentExecutions) || isIntegerBetween(maxConcurrentExecutions, 1, MAX_CONCURRENT_EXECUTIONS)
      ? undefined
      : `maxConcurrentExecutions must be an integer between 1 and ${MAX_CONCURRENT_EXECUTIONS}`,
    absent(maxConcurrentExecutionsPerUser) || isIntegerBetween(maxConcurrentExecutionsPerUser, 1, MAX_CONCURRENT_EXECUTIONS)
      ? undefined
      : `maxConcurrentExecutionsPerUser must be an integer between 1 and ${MAX_CONCURRENT_EXECUTIONS}`,
    absent(executionTimeoutMs) || isIntegerBetween(executionTimeoutMs, 1, MAX_EXECUTION_TIMEOUT_MS)
      ? undefined
      : `executionTimeoutMs must be an integer between 1 and ${MAX_EXECUTION_TIMEOUT_MS}`,
    absent(maxRetryAttempts) || isIntegerBetween(maxRetryAttempts, 0, MAX_RETRY_ATTEMPTS)
      ? undefined
      : `recovery.maxRetryAttempts must be an integer between 0 and ${MAX_RETRY_ATTEMPTS}`,
  ]
    .filter((problem) => problem !== undefined)
    .map((problem) => error('INVALID_SETTINGS', [], problem));
}

function cycleErrors(cycles: readonly CircularDependency[]): DependencyError[] {
  return cycles.map((cycle) => error('CIRCULAR_DEPENDENCY', cycle.nodes, `Circular dependency: ${cycle.path.join(' -> ')}`));
}

/** A lone trigger cannot start anything, so it counts as orphaned even though it is reachable. */
function isOrphaned(graph: WorkflowGraph, id: string): boolean {
  return graph.outgoing(id).length === 0 && (graph.isTrigger(id) || graph.incoming(id).length === 0);
}

function orphanMessage(graph: WorkflowGraph, id: string): string {
  return graph.isTrigger(id) ? `Trigger '${id}' starts no nodes` : `Node '${id}' has no connections`;
}

export function validateWorkflow(definition: WorkflowDefinition, options: ValidateWorkflowOptions): ValidationResult {
  const { nodeTypes } = options;
  const graph = new WorkflowGraph(definition, nodeTypes);
  const { nodes, connections } = definition;
  const circularDependencies = findCycles(graph);
  const reachable = graph.reachableFrom(graph.triggers());
  const unreachableNodes = graph.nodeIds().filter((id) => !reachable.has(id));
  const orphanedNodes = graph.nodeIds().filter((id) => isOrphaned(graph, id));
  const issues = [
    ...checkName(definition),
    ...checkNodeIds(nodes),
    ...nodes.flatMap((node) => checkNode(node, nodeTypes)),
    ...checkConnectionEnds(connections, graph),
    ...checkDuplicateConnections(connections),
    ...checkBranchLabels(connections, graph, nodeTypes),
    ...checkTriggers(graph),
    ...checkWebhookPaths(nodes, options.webhookPathsInUse ?? new Map(), nodeTypes),
    ...checkSettings(definition.settings),
    ...cycleErrors(circularDependencies),
    ...unreachableNodes.map((id) => warning('UNREACHABLE_NODE', [id], `Node '${id}' is not reachable from any trigger`)),
    ...orphanedNodes.map((id) => warning('ORPHANED_NODE', [id], orphanMessage(graph, id))),
  ];
  const errors = issues.filter((issue) => issue.severity === 'error');
  return {
    isValid: errors.length === 0,
    errors,
    warnings: issues.filter((issue) => issue.severity === 'warning'),
    circularDependencies,
    unreachableNodes,
    orphanedNodes,
  };
}
