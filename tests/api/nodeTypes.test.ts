import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineNodeType } from '../../src/index.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { startApi, type Api } from './apiHarness.js';

const upper = defineNodeType({
  type: 'acme.upper',
  description: 'Upper-cases one field of the input',
  parameters: { type: 'object', required: ['field'], properties: { field: { type: 'string' } } },
  sideEffects: true,
  execute: async ({ input }) => ({ output: input }),
});

describe('GraphQL nodeTypes', () => {
  let backend: Backend;
  let api: Api;
  beforeAll(async () => {
    backend = await BACKENDS[0]!.create();
    api = await startApi(backend, { engine: { nodeTypes: [upper] } });
  });
  afterAll(async () => {
    await api.close();
    await backend.dispose();
  });

  it('lists every registered type with its capabilities and parameter schema', async () => {
    const { data, errors } = await api.gql('{ nodeTypes { type description trigger sideEffects outputs parameterSchema } }');
    expect(errors).toBeUndefined();
    const byType = new Map((data.nodeTypes as Array<{ type: string }>).map((each) => [each.type, each]));
    expect([...byType.keys()].sort()).toEqual(
      [
        'acme.upper',
        'delay',
        'external',
        'fail',
        'http',
        'if',
        'merge',
        'noop',
        'transform',
        'trigger.event',
        'trigger.manual',
        'trigger.schedule',
        'trigger.webhook',
        'wait',
        'approval',
        'workflow',
        'map',
      ].sort(),
    );
    expect(byType.get('acme.upper')).toEqual({
      type: 'acme.upper',
      description: 'Upper-cases one field of the input',
      trigger: false,
      sideEffects: true,
      outputs: ['default'],
      parameterSchema: upper.parameters,
    });
    expect(byType.get('if')).toMatchObject({ trigger: false, sideEffects: false, outputs: ['true', 'false'] });
    expect(byType.get('trigger.webhook')).toMatchObject({ trigger: true, parameterSchema: { required: ['path'] } });
  });

  it('refuses to save parameters that break a schema with VALIDATION_FAILED, listing every problem', async () => {
    const input = {
      name: 'bad',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'up', type: 'acme.upper', parameters: { field: 7 } },
        { id: 'call', type: 'http', parameters: { url: 'ftp://x', method: 'BREW' } },
      ],
      connections: [
        { source: 'start', target: 'up' },
        { source: 'up', target: 'call' },
      ],
    };
    const { errors } = await api.gql('mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }', { input });
    expect(errors![0]!.extensions.code).toBe('VALIDATION_FAILED');
    const listed = (errors![0]!.extensions.errors as Array<{ nodes: string[]; message: string }>).map((each) => each.message);
    expect(listed).toEqual([
      "Node 'up' (acme.upper): field must be string",
      "Node 'call' (http): url must be an absolute http(s) URL",
      "Node 'call' (http): method must be one of GET, POST, PUT, PATCH, DELETE, HEAD",
    ]);
  });
});
