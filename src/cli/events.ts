import type { Client } from './client.js';
import { CliError } from './cliError.js';

/** The server's largest page. */
const PAGE = 1000;
const EVENTS = 'query Events($id: ID!, $after: Int!, $first: Int!) { executionEvents(executionId: $id, after: $after, first: $first) { eventNumber type data recordedAt } }';

interface Page {
  executionEvents: Array<{ eventNumber: number; type: string; data: { nodeId?: string; attempt?: number; error?: string; reason?: string }; recordedAt: string }>;
}

/** One line per event, every page of them: number, time, type, node and attempt, and an error or reason. */
export async function events(client: Client, executionId: string): Promise<void> {
  let after = 0;
  for (;;) {
    const { executionEvents } = await client.request<Page>(EVENTS, { id: executionId, after, first: PAGE }).catch((error: unknown) => {
      throw error instanceof CliError && error.code === 'NOT_FOUND' ? new CliError('NOT_FOUND', `execution ${executionId} not found`) : error;
    });
    for (const event of executionEvents) {
      const node = event.data.nodeId ? ` ${event.data.nodeId}${event.data.attempt ? ` #${event.data.attempt}` : ''}` : '';
      const note = event.data.error ?? event.data.reason;
      process.stdout.write(`${event.eventNumber}\t${event.recordedAt}\t${event.type}${node}${note ? `\t${note}` : ''}\n`);
    }
    if (executionEvents.length < PAGE) return;
    after = executionEvents.at(-1)!.eventNumber;
  }
}
