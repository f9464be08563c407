import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { collect, startApi, type Api } from './apiHarness.js';

/** The README's GraphQL blocks, by operation name, exactly as a reader would paste them. */
function readmeOperations(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);
  // An anonymous operation is keyed by its place, so that every block is checked, not only the last.
  return new Map(blocks.map((block, index) => [/^(?:query|mutation|subscription) (\w+)/m.exec(block)?.[1] ?? `block ${index}`, block]));
}

describe('the README example', () => {
  const postgres = BACKENDS.find((backend) => backend.name === 'postgres')!;
  let backend: Backend;
  let api: Api;
  /** Stands in for httpbin.org: the test needs no internet. */
  let recorder: Server;
  let recorderUrl: string;
  const received: { method: string; url: string; body: string }[] = [];
  beforeAll(async () => {
    recorder = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ method: request.method ?? '', url: request.url ?? '', body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    backend = await postgres.create();
    api = await startApi(backend);
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
    await new Promise((resolve) => recorder.close(resolve));
  });

  it('runs as written: create, start, watch live, read the result', async () => {
    const operations = readmeOperations();
    const created = await api.gql(operations.get('Create')!.replace('https://httpbin.org', recorderUrl));
    expect(created.errors).toBeUndefined();
    const workflowId = created.data.createWorkflow.id;
    const started = await api.gql(operations.get('Start')!, { workflowId });
    expect(started.errors).toBeUndefined();
    const executionId = started.data.startTrigger.id;
    const watch = collect<{ executionUpdated: { status: string } }>(api.wsClient(), operations.get('Watch')!, { executionId });
    const messages = await watch.done;
    expect(messages.at(-1)!.executionUpdated.status).toBe('COMPLETED');
    await api.caughtUp();
    const result = await api.gql(operations.get('Result')!, { executionId });
    expect(result.errors).toBeUndefined();
    const nodes = Object.fromEntries(result.data.execution.nodeStates.map((node: { nodeId: string }) => [node.nodeId, node]));
    expect(nodes.price.output).toBe(60);
    expect(nodes.big.outputName).toBe('false');
    expect(nodes.approve.status).toBe('SKIPPED');
    expect(nodes.done.output).toEqual({ ship: { approval: 'auto', total: 60 } });
    expect(nodes.notify.status).toBe('COMPLETED');
    expect(received).toEqual([{ method: 'POST', url: '/anything/orders/3x20', body: JSON.stringify({ ship: { approval: 'auto', total: 60 } }) }]);
    expect(result.data.executionEvents.length).toBeGreaterThan(10);
    // The other examples: queries run against this execution; mutations (which would change it)
    // must at least be valid against the schema.
    const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    for (const [name, operation] of operations) {
      if (['Create', 'Start', 'Watch', 'Result'].includes(name)) continue;
      expect(validate(schema, parse(operation)), name).toEqual([]);
      if (operation.trimStart().startsWith('mutation')) continue;
      const answer = await api.gql(operation, { executionId, workflowId, eventNumber: 5, nodeId: 'done' });
      expect(answer.errors, name).toBeUndefined();
    }
  });
});
