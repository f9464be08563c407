import { DomainError, invalidState } from '../errors.js';
import type { NodeTypeLookup } from '../workflow/nodeCapabilities.js';
import type { ExecutionCommand } from './commands.js';
import type { ExecutionEvent } from './events.js';
import type { ExecutionState } from './state.js';

/** What a wait-run node waits for, from its parameters as resolved when its attempt starts. */
export interface WaitSpec {
  /** The emitEvent name it listens to; null: only signalNode completes it. */
  event: string | null;
  /** JSONata over `{ event, trigger, input }`; null: every event of that name matches. */
  match: string | null;
  /** How long it waits before it fails with WAIT_TIMEOUT; null: for ever (or until the node's timeoutMs). */
  timeoutMs: number | null;
}

/** What NodeStarted records of a wait: the deadline as a time, so that replaying the event gives the same timer. */
export interface WaitStarted {
  event: string | null;
  match: string | null;
  timeoutAt: string | null;
}

export const waitStarted = (spec: WaitSpec, now: Date): WaitStarted => ({
  event: spec.event,
  match: spec.match,
  timeoutAt: spec.timeoutMs === null ? null : new Date(now.getTime() + spec.timeoutMs).toISOString(),
});

type SignalNode = Extract<ExecutionCommand, { type: 'SignalNode' }>;

/**
 * A signal completes a node that waits (a wait-run type, RUNNING), on the output it names (one
 * of the type's): a type with several (an approval) takes the named one, the first when none is
 * named. As with every settled result, a PAUSED execution
 * keeps it and goes on when resumed.
 */
export function signalNode(command: SignalNode, state: ExecutionState, at: string, nodeTypes: NodeTypeLookup): ExecutionEvent[] {
  const { nodeId, attempt, output, outputName } = command.data;
  const node = state.nodes.get(nodeId);
  if (!node) throw new DomainError('NOT_FOUND', `execution ${state.id} has no node ${nodeId}`);
  const type = nodeTypes.get(state.graph.nodes.get(nodeId)!.type);
  if (type?.runs !== 'wait') throw invalidState(`node ${nodeId} is a ${state.graph.nodes.get(nodeId)!.type} node: only wait nodes take signals`, { nodeId });
  if (state.status !== 'RUNNING' && state.status !== 'PAUSED') throw invalidState(`cannot signal a node of a ${state.status} execution`, { status: state.status });
  if (node.status !== 'RUNNING') throw invalidState(`node ${nodeId} is ${node.status}, not waiting`, { nodeId, status: node.status });
  if (attempt !== undefined && attempt !== node.attempt)
    throw invalidState(`attempt ${attempt} of node ${nodeId} is over (it waits at attempt ${node.attempt})`, { attempt: node.attempt });
  return [{ type: 'NodeCompleted', data: { nodeId, attempt: node.attempt, output: output ?? null, outputName: branchOf(type.outputs, outputName), at } }];
}

function branchOf(outputs: readonly string[], outputName: string | null): string | null {
  if (outputName !== null && !outputs.includes(outputName)) {
    throw new DomainError('BAD_USER_INPUT', `outputName must be ${outputs.map((name) => `'${name}'`).join(' or ')}, got '${outputName}'`);
  }
  if (outputs.length < 2) return null;
  return outputName ?? outputs[0]!;
}
