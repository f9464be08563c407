import { SingleBar } from 'cli-progress';
import type { Client } from './client.js';
import { CliError, EXIT } from './cliError.js';

const LIVE = `subscription Watch($id: ID!) {
  executionUpdated(executionId: $id) { status progress changedNodes { nodeId status } execution { estimatedTimeRemainingMs } }
}`;
const FINAL = 'query Final($id: ID!) { execution(id: $id) { status progress } }';
const ORDER = ['COMPLETED', 'RUNNING', 'QUEUED', 'FAILED', 'SKIPPED', 'CANCELLED', 'IDLE'];
/** Running nodes named on one line at most; the rest are counted. */
const MAX_RUNNING_SHOWN = 5;

interface Update {
  executionUpdated: { status: string; progress: number; changedNodes: Array<{ nodeId: string; status: string }>; execution: { estimatedTimeRemainingMs: number | null } };
}

/** What the line (or the bar's suffix) says: counts by state and the running nodes. */
function describe(nodes: Map<string, string>): { counts: string; running: string } {
  const counts = new Map<string, number>();
  const running: string[] = [];
  for (const [nodeId, status] of nodes) {
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (status === 'RUNNING') running.push(nodeId);
  }
  const shown = running.slice(0, MAX_RUNNING_SHOWN).join(', ') + (running.length > MAX_RUNNING_SHOWN ? ` and ${running.length - MAX_RUNNING_SHOWN} more` : '');
  return {
    counts: ORDER.filter((status) => counts.has(status))
      .map((status) => `${status.toLowerCase()} ${counts.get(status)}`)
      .join(', '),
    running: running.length ? `running: ${shown}` : '',
  };
}

/** A progress bar on a terminal; plain lines (no escape codes) when stdout is a file or a pipe. */
function display(tty: boolean) {
  const bar = tty ? new SingleBar({ format: '{bar} {percentage} % | {status} | {counts} {running}', hideCursor: true, clearOnComplete: false, barsize: 30 }) : null;
  let last = '';
  return {
    show(status: string, progress: number, detail: { counts: string; running: string }) {
      const percent = Math.round(progress);
      if (bar) {
        if (!bar.isActive) bar.start(100, percent, { status, ...detail });
        else bar.update(percent, { status, ...detail });
        return;
      }
      const line = `${percent} % ${status} | ${detail.counts}${detail.running ? ` | ${detail.running}` : ''}`;
      if (line !== last) process.stdout.write(`${line}\n`);
      last = line;
    },
    stop: () => bar?.stop(),
  };
}

/** Follows an execution live until it ends; resolves with the exit code (0 only for COMPLETED). */
export async function watch(client: Client, executionId: string): Promise<number> {
  const nodes = new Map<string, string>();
  let status: string | null = null;
  let progress = 0;
  const screen = display(process.stdout.isTTY === true);
  try {
    await client.subscribe<Update>(LIVE, { id: executionId }, ({ executionUpdated: update }) => {
      for (const node of update.changedNodes) nodes.set(node.nodeId, node.status);
      status = update.status;
      progress = update.progress;
      screen.show(status, progress, describe(nodes));
    });
  } finally {
    screen.stop();
  }
  // The subscription ends with the execution; what it ended as is read once more to be sure.
  const { execution } = await client.request<{ execution: { status: string; progress: number } | null }>(FINAL, { id: executionId });
  if (!execution) throw new CliError('NOT_FOUND', `execution ${executionId} not found`);
  if (execution.status !== status || execution.progress !== progress) screen.show(execution.status, execution.progress, describe(nodes));
  process.stdout.write(`execution ${executionId} ${execution.status} (${Math.round(execution.progress)} %)\n`);
  return execution.status === 'COMPLETED' ? EXIT.ok : EXIT.notCompleted;
}
