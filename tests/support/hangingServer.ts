import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server that answers after `answerAfterMs` (never, by default), recording each request's connection. */
export interface HangingServer {
  url: string;
  /** One entry per request received; `closedAt` is set when the client dropped the connection. */
  requests: Array<{ receivedAt: number; closedAt: number | null }>;
  close(): Promise<void>;
}

export async function startHangingServer(answerAfterMs = Number.POSITIVE_INFINITY): Promise<HangingServer> {
  const requests: HangingServer['requests'] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const entry = { receivedAt: Date.now(), closedAt: null as number | null };
    requests.push(entry);
    request.socket.on('close', () => (entry.closedAt = Date.now()));
    if (Number.isFinite(answerAfterMs)) {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), answerAfterMs);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
