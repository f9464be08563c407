import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/testDatabase.js';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A program of a user of the package, outside the repository: it imports the built package by
 * its name (node_modules/cascade -> a checkout, as `npm install <checkout>` links it), registers
 * a type, starts a server on a free port, runs a workflow over GraphQL, prints what it saw and closes.
 */
const PROGRAM = `
import { defineNodeType, startCascade } from 'cascade';

const upper = defineNodeType({
  type: 'acme.upper',
  description: 'Upper-cases one field of the input',
  parameters: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 100 } } },
  sideEffects: false,
  execute: async ({ parameters, attempt }) => ({ output: { text: parameters.text.toUpperCase(), attempt } }),
});

const cascade = await startCascade({ databaseUrl: process.env.DATABASE_URL, adminKey: 'program-admin-key', port: 0, host: '127.0.0.1', logLevel: 'warn', nodeTypes: [upper] });
async function gql(query, variables = {}) {
  const response = await fetch(cascade.url + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer program-admin-key' }, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
try {
  const { nodeTypes } = await gql('{ nodeTypes { type description trigger sideEffects outputs parameterSchema } }');
  const input = {
    name: 'shout',
    nodes: [{ id: 'start', type: 'trigger.manual' }, { id: 'up', type: 'acme.upper', parameters: { text: 'hello {{ trigger.name }}' } }],
    connections: [{ source: 'start', target: 'up' }],
  };
  const { createWorkflow } = await gql('mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input });
  const { startTrigger } = await gql('mutation($id: ID!) { startTrigger(workflowId: $id, triggerNodeId: "start", data: { name: "ada" }) { id } }', { id: createWorkflow.id });
  let execution;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    ({ execution } = await gql('query($id: ID!) { execution(id: $id) { status nodeStates { nodeId output } } }', { id: startTrigger.id }));
    if (execution && execution.status !== 'RUNNING' && execution.status !== 'QUEUED') break;
  }
  console.log(JSON.stringify({ url: cascade.url, upper: nodeTypes.find((each) => each.type === 'acme.upper'), types: nodeTypes.length, execution }));
} finally {
  await cascade.close();
}
`;

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What `npm run build` reads, and what the built package reads at run time besides dist/. */
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'migrations', 'schema.graphql'];

/**
 * A checkout of its own, for `npm run build` to start from an empty dist/ in: the build deletes
 * dist/ first, and this checkout's dist/viewer is what the browser tests' servers serve meanwhile.
 * Its node_modules are this checkout's, as `npm ci` would have installed them.
 */
async function copyOfCheckout(target: string): Promise<string> {
  for (const input of BUILD_INPUTS) await cp(join(CHECKOUT, input), join(target, input), { recursive: true });
  await symlink(join(CHECKOUT, 'node_modules'), join(target, 'node_modules'), 'dir');
  return target;
}

describe('the built package, imported by a program outside the repository', () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-user-'));
    const checkout = await copyOfCheckout(join(dir, 'cascade'));
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: checkout, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    await mkdir(join(dir, 'node_modules'));
    await symlink(checkout, join(dir, 'node_modules', 'cascade'), 'dir');
    await writeFile(join(dir, 'program.mjs'), PROGRAM);
    database = await createTestDatabase();
  }, 300_000);

  afterAll(async () => {
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers a type, serves on a free port and runs a workflow that uses it over GraphQL', { timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await run(process.execPath, ['program.mjs'], { cwd: dir, env: { ...process.env, DATABASE_URL: database.url } });
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    expect(report.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(report.url).not.toMatch(/:0$/);
    expect(report.types).toBe(17);
    expect(report.upper).toEqual({
      type: 'acme.upper',
      description: 'Upper-cases one field of the input',
      trigger: false,
      sideEffects: false,
      outputs: ['default'],
      parameterSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 100 } } },
    });
    expect(report.execution.status).toBe('COMPLETED');
    expect(report.execution.nodeStates.find((node: { nodeId: string }) => node.nodeId === 'up').output).toEqual({ text: 'HELLO ADA', attempt: 1 });
  });
});
