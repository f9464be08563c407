import type { Client } from './client.js';
import { CliError, EXIT } from './cliError.js';
import { watch } from './watch.js';

const START =
  'mutation Start($workflowId: ID!, $triggerNodeId: ID!, $data: JSON) { startTrigger(workflowId: $workflowId, triggerNodeId: $triggerNodeId, data: $data) { id status } }';

function parseData(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError('BAD_USER_INPUT', `--data is not valid JSON: ${(error as Error).message}`);
  }
}

/** Starts a trigger and prints the execution id (alone on its line, for scripts); --watch follows it. */
export async function start(client: Client, workflowId: string, triggerNodeId: string, options: { data?: string; watch?: boolean }): Promise<number> {
  const data = parseData(options.data);
  const { startTrigger } = await client.request<{ startTrigger: { id: string; status: string } }>(START, { workflowId, triggerNodeId, data });
  process.stdout.write(`${startTrigger.id}\n`);
  return options.watch ? watch(client, startTrigger.id) : EXIT.ok;
}
