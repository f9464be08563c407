import type { Client } from './client.js';
import { CliError } from './cliError.js';
import { formatDuration, table } from './table.js';

const SHOW = `query Show($id: ID!) {
  execution(id: $id) { id workflowId status progress durationMs nodeStates { nodeId status attempt durationMs error skipReason } }
}`;

interface Shown {
  execution: {
    id: string;
    workflowId: string;
    status: string;
    progress: number;
    durationMs: number | null;
    nodeStates: Array<{ nodeId: string; status: string; attempt: number; durationMs: number | null; error: string | null; skipReason: string | null }>;
  } | null;
}

/** A table of the execution's nodes: status, attempt, duration, and why one failed or was skipped. */
export async function show(client: Client, executionId: string): Promise<void> {
  const { execution } = await client.request<Shown>(SHOW, { id: executionId });
  if (!execution) throw new CliError('NOT_FOUND', `execution ${executionId} not found`);
  process.stdout.write(
    `execution ${execution.id} of workflow ${execution.workflowId}: ${execution.status}, ${Math.round(execution.progress)} %, ${formatDuration(execution.durationMs)}\n`,
  );
  const rows = execution.nodeStates.map((node) => [node.nodeId, node.status, String(node.attempt), formatDuration(node.durationMs), node.error ?? node.skipReason ?? '']);
  process.stdout.write(table(['NODE', 'STATUS', 'ATTEMPT', 'DURATION', 'NOTE'], rows));
}
