import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { buildCli, runCli } from '../support/cliProcess.js';
import { freePort, killAll, launchServer, type ServerProcess } from '../support/serverProcess.js';

const CREATE = `mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start") { id } }`;
const TEST_MS = 180_000;

const pipeline = {
  name: 'order "pipeline"',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'wait', type: 'delay', parameters: { ms: 300 } },
    { id: 'big', type: 'if', parameters: { condition: 'input.wait.n > 1' } },
    { id: 'end', type: 'noop', name: 'the end' },
    { id: 'small', type: 'noop' },
  ],
  connections: [
    { source: 'start', target: 'wait' },
    { source: 'wait', target: 'big' },
    { source: 'big', target: 'end', sourceOutput: 'true' },
    { source: 'big', target: 'small', sourceOutput: 'false' },
  ],
};
const failing = {
  name: 'failing',
  nodes: [
    { id: 'start', type: 'trigger.manual' },
    { id: 'boom', type: 'fail', parameters: { message: 'it broke' } },
  ],
  connections: [{ source: 'start', target: 'boom' }],
};

// No stack traces, and with stdout a pipe no escape codes.
const clean = (text: string) => {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toContain('\u001b');
};

describe('the cascade CLI as a process against a server process', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let cli: string;
  const servers: ServerProcess[] = [];
  let env: Record<string, string>;
  let pipelineId: string;

  beforeAll(async () => {
    cli = await buildCli();
    database = await createTestDatabase();
    server = await launchServer({ DATABASE_URL: database.url, PORT: String(await freePort()) });
    servers.push(server);
    env = { CASCADE_URL: server.url, CASCADE_API_KEY: 'test-key' };
    pipelineId = (await server.gql(CREATE, { input: pipeline })).createWorkflow.id;
  }, TEST_MS);
  afterAll(async () => {
    await killAll(servers);
    await database?.drop();
  });

  it(
    'start --watch follows the execution to COMPLETED, shows 100 % and exits 0',
    async () => {
      const run = await runCli(cli, ['start', pipelineId, 'start', '--data', '{"n": 2}', '--watch'], env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const [executionId] = run.stdout.split('\n');
      expect(run.stdout).toContain('100 % COMPLETED');
      expect(run.stdout).toContain(`execution ${executionId} COMPLETED (100 %)`);
      expect(run.stdout).toMatch(/completed 4, skipped 1/);
      clean(run.stdout);
      const { execution } = await server.gql(`query($id: ID!) { execution(id: $id) { status nodeStates { nodeId input } } }`, { id: executionId });
      expect(execution.status).toBe('COMPLETED');
    },
    TEST_MS,
  );

  it(
    'watch exits 1 for an execution that fails',
    async () => {
      const workflowId = (await server.gql(CREATE, { input: failing })).createWorkflow.id;
      const { startTrigger } = await server.gql(START, { id: workflowId });
      const run = await runCli(cli, ['watch', startTrigger.id], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`execution ${startTrigger.id} FAILED`);
      clean(run.stdout);

      const shown = await runCli(cli, ['show', startTrigger.id], env);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^NODE\s+STATUS\s+ATTEMPT\s+DURATION/m);
      expect(shown.stdout).toMatch(/^boom\s+FAILED\s+1\s+\S+.*it broke/m);
      expect(shown.stdout).toMatch(/^start\s+COMPLETED\s+1/m);

      const events = await runCli(cli, ['events', startTrigger.id], env);
      expect(events.code).toBe(0);
      const lines = events.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^1\t\S+\tExecutionStarted$/);
      expect(lines.some((line) => /\tNodeFailed boom #1\tit broke$/.test(line))).toBe(true);
      expect(lines.at(-1)).toMatch(/\tExecutionFailed/);
    },
    TEST_MS,
  );

  it(
    'export prints every node and connection as Mermaid and as DOT',
    async () => {
      const run = await runCli(cli, ['export', pipelineId, '--format', 'mermaid'], env);
      expect(run.code).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toBe('flowchart LR');
      const key = new Map(
        pipeline.nodes.map((node) => [
          node.id,
          lines
            .find((line) => line.includes(`["${node.id}<br/>`) || line.includes(`(${node.id})<br/>`))
            ?.trim()
            .split('[')[0],
        ]),
      );
      expect([...key.values()].every(Boolean)).toBe(true);
      for (const edge of pipeline.connections) expect(lines).toContain(`  ${key.get(edge.source)} -->${edge.sourceOutput ? `|${edge.sourceOutput}|` : ''} ${key.get(edge.target)}`);
      expect(lines).toHaveLength(1 + pipeline.nodes.length + pipeline.connections.length);

      const dot = await runCli(cli, ['export', pipelineId, '--format', 'dot'], env);
      expect(dot.code).toBe(0);
      expect(dot.stdout).toContain('digraph "order \\"pipeline\\"" {');
      for (const edge of pipeline.connections) expect(dot.stdout).toContain(`"${edge.source}" -> "${edge.target}"`);
    },
    TEST_MS,
  );

  it(
    'answers bad input and an unreachable server with a coded error and exit code 2',
    async () => {
      const cases: Array<[string[], Record<string, string>, RegExp]> = [
        [['start', pipelineId, 'start', '--data', '{ nope'], env, /^error BAD_USER_INPUT: --data is not valid JSON/],
        [['export', pipelineId, '--format', 'png'], env, /^error BAD_USER_INPUT: --format must be one of mermaid, dot/],
        [['show', 'no-such-execution'], env, /^error NOT_FOUND: execution no-such-execution not found/],
        [['export', 'no-such-workflow', '--format', 'dot'], env, /^error NOT_FOUND: workflow no-such-workflow not found/],
        [['start', 'no-such-workflow', 'start'], env, /^error NOT_FOUND: /],
        [['show', 'x'], { ...env, CASCADE_URL: 'ftp://example' }, /^error BAD_USER_INPUT: CASCADE_URL must be an http/],
        [['show', 'x'], { ...env, CASCADE_URL: `http://127.0.0.1:${await freePort()}` }, /^error UNREACHABLE: cannot reach the Cascade server/],
        [['watch', 'x'], { ...env, CASCADE_URL: `http://127.0.0.1:${await freePort()}` }, /^error UNREACHABLE: cannot reach the Cascade server/],
      ];
      for (const [args, runEnv, message] of cases) {
        const run = await runCli(cli, args, runEnv);
        expect({ args, code: run.code, stderr: run.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
        clean(run.stderr);
      }
      const unknown = await runCli(cli, ['frobnicate'], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    },
    TEST_MS,
  );
});
