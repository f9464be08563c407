import type { ExecutionCommandHandler } from '../../commands/executionCommandHandler.js';
import type { ExecutionCommand } from '../../domain/execution/commands.js';
import { DomainError } from '../../domain/errors.js';
import type { ExecutionFaults } from '../executionFaults.js';
import { handleOnLatest } from '../latestState.js';
import type { NodeRunner } from '../runner/nodeRunner.js';
import type { Timer } from './timer.js';

/**
 * What a due timer does: it sends the command it stands for. The decider refuses or ignores a
 * command about an attempt that is over, so a late or repeated timer changes nothing. A timer
 * whose command cannot be handled (a retry delay that is no number) fails its execution rather
 * than firing again and again.
 */
export function timerActions(handler: ExecutionCommandHandler, runner: NodeRunner, faults: ExecutionFaults): (timer: Timer) => Promise<void> {
  const send = async (timer: Timer, command: ExecutionCommand | ExecutionCommand[]) => {
    try {
      await handleOnLatest(handler, timer.executionId, command, { causationId: `timer:${timer.id}` });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  };
  const fire = async (timer: Timer): Promise<void> => {
    const { nodeId, attempt } = timer;
    switch (timer.kind) {
      case 'delay': {
        // Settled with the readiness of its dependents in one commit, as the runner settles nodes.
        const complete: ExecutionCommand = { type: 'CompleteNode', data: { nodeId, attempt, output: await inputOf(handler, timer), outputName: null } };
        return send(timer, [complete, { type: 'QueueReadyNodes' }]);
      }
      case 'retry':
        // The runner sends StartNode itself, and runs the attempt (the timer does not wait for it).
        void runner.dispatch({ executionId: timer.executionId, nodeId, attempt });
        return;
      case 'nodeTimeout':
        return send(timer, { type: 'TimeoutNode', data: { nodeId, attempt } });
      case 'lease':
        return send(timer, { type: 'ExpireLease', data: { nodeId, attempt } });
      case 'executionTimeout':
        return send(timer, { type: 'TimeoutExecution' });
      case 'waitTimeout': {
        // For good: trying again would only wait again, which a longer timeoutMs says better.
        const error = `WAIT_TIMEOUT: node ${nodeId} waited past its timeoutMs`;
        return send(timer, [{ type: 'FailNode', data: { nodeId, attempt, error, retryable: false, errorCode: 'WAIT_TIMEOUT' } }, { type: 'QueueReadyNodes' }]);
      }
    }
  };
  return (timer) => faults.contain(timer.executionId, `timer ${timer.kind}`, () => fire(timer));
}

/** A delay passes its input on. */
async function inputOf(handler: ExecutionCommandHandler, timer: Timer): Promise<unknown> {
  const state = await handler.load(timer.executionId);
  return state?.nodes.get(timer.nodeId)?.input ?? {};
}
