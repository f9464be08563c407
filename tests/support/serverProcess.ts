import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** The server as a real process: `src/main.ts` with tsx as a loader, so that signals reach it directly (not through npx). */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
  /** A GraphQL request; rejects with the errors the server answered. */
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/** The ADMIN key every launched server is started with (CASCADE_ADMIN_KEY), and which the CLI and viewer tests sign in with. */
export const TEST_ADMIN_KEY = 'test-key';
const authorized = { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}` };

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What the server answered to a GraphQL request, errors included. */
export interface GraphQLAnswer {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

/** A GraphQL request that hands back what the server answered, errors included. */
export async function postGraphQL(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLAnswer> {
  const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: authorized, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as GraphQLAnswer['body'] };
}

/** Reads until `done` holds, every `intervalMs`, for at most `deadlineMs`; `what` names the wait in the error. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, deadlineMs: number, intervalMs = 100, what?: string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting${what ? ` for ${what}` : ''}, last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Kills (SIGKILL) every server still running and waits until each has exited: a test file's clean-up. */
export async function killAll(servers: ServerProcess[]): Promise<void> {
  for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.exited));
}

/** How long a server may take to answer its health check: a busy 2-core machine starting tsx is slow. */
const LAUNCH_DEADLINE_MS = 60_000;

/** Starts the server and resolves once its health check answers. */
export async function launchServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', CASCADE_ADMIN_KEY: TEST_ADMIN_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${env.PORT}`;
  const server: ServerProcess = {
    child,
    url,
    output: () => output,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    async gql(query, variables = {}) {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: authorized, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data: any; errors?: unknown[] };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
  };
  const deadline = Date.now() + LAUNCH_DEADLINE_MS;
  for (;;) {
    const response = await fetch(`${url}/health`).catch(() => null);
    if (response?.ok) return server;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`server did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
