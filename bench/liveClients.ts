import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

// The subscribers of the live-updates scenario, in a process of their own (forked by
// liveUpdates.ts): real clients run on other machines, so their frame handling must not queue
// behind the server's event loop, nor the server's work behind theirs. Date.now() is the same
// clock in both processes.

export interface LiveClientsInput {
  url: string;
  executionId: string;
  subscribers: number;
  /** Sent as `Bearer <apiKey>` in connection_init, when the server wants a credential. */
  apiKey?: string;
}

export interface Received {
  /** Date.now() when the frame's message reached the subscriber. */
  at: number;
  nodes: Array<{ nodeId: string; status: string }>;
}

/**
 * To the parent: first that every subscriber has its snapshot, then, once all completed, what each
 * received; each with this process's CPU so far (user + system, microseconds), so that the parent
 * counts the clients' CPU between the two (this process may be gone by the time it could look).
 */
export type LiveClientsMessage = { kind: 'subscribed'; cpuMicros: number } | { kind: 'received'; received: Received[][]; cpuMicros: number };

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const QUERY = 'subscription ($id: ID!) { executionUpdated(executionId: $id) { status changedNodes { nodeId status } } }';

/**
 * Sockets opened at once, each batch once the one before has its snapshots: 1,000 connections at
 * once from each of five processes overflow the server's accept queue on a busy machine (resets).
 */
const CONNECT_BATCH = 100;

/** One subscriber: `snapshot` settles with its first message, `messages` once the subscription completes. */
function follow(client: Client, executionId: string): { snapshot: Promise<void>; messages: Promise<Received[]> } {
  const received: Received[] = [];
  let snapshot!: () => void;
  const first = new Promise<void>((resolve) => (snapshot = resolve));
  const messages = new Promise<Received[]>((resolve, reject) => {
    client.subscribe<{ executionUpdated: { changedNodes: Received['nodes'] } }>(
      { query: QUERY, variables: { id: executionId } },
      {
        next: (message) => {
          received.push({ at: Date.now(), nodes: message.data?.executionUpdated.changedNodes ?? [] });
          if (received.length === 1) snapshot();
        },
        error: reject,
        complete: () => resolve(received),
      },
    );
  });
  return { snapshot: Promise.race([first, messages.then(() => {})]), messages };
}

async function main({ url, executionId, subscribers, apiKey }: LiveClientsInput): Promise<void> {
  const tell = (message: LiveClientsMessage) => process.send!(message);
  const clients: Client[] = [];
  const following: Array<Promise<Received[]>> = [];
  try {
    for (let opened = 0; opened < subscribers; opened += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, subscribers - opened) }, () =>
        createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : undefined }),
      );
      clients.push(...batch);
      const subscriptions = batch.map((client) => follow(client, executionId));
      following.push(...subscriptions.map((each) => each.messages));
      await Promise.all(subscriptions.map((each) => each.snapshot));
    }
    tell({ kind: 'subscribed', cpuMicros: cpuMicros() });
    const received = await Promise.all(following);
    tell({ kind: 'received', received, cpuMicros: cpuMicros() });
  } finally {
    await Promise.all(clients.map(async (client) => client.dispose()));
  }
}

// The parent ends this process once it has the results: exiting first could overtake them.
process.once('message', (input: LiveClientsInput) => void main(input));
