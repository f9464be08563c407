import type { CommandContext, CommandResult, ExecutionCommandHandler } from '../commands/executionCommandHandler.js';
import type { ExecutionCommand } from '../domain/execution/commands.js';

/**
 * Sends commands decided on the stream as it is now, as one unit. The handler decides on its cached state,
 * which lags whatever other processes appended: a command it accepts is checked by the append,
 * but a refusal (or a decision to do nothing) would be final. Timers and claims are about
 * attempts that another process may have moved on, so they catch up first.
 */
export async function handleOnLatest(
  handler: ExecutionCommandHandler,
  executionId: string,
  command: ExecutionCommand | ExecutionCommand[],
  context: CommandContext,
): Promise<CommandResult> {
  await handler.load(executionId);
  return handler.handleAll(executionId, Array.isArray(command) ? command : [command], context);
}
