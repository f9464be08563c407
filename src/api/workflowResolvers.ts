import { validateWorkflow } from '../domain/workflow/validateWorkflow.js';
import type { NodeDefinition } from '../domain/workflow/workflow.js';
import { actorOf, tenantOfCaller } from '../auth/actor.js';
import { tenantOf } from '../domain/tenants.js';
import type { ApiDeps } from './apiDeps.js';
import { toDefinition, type WorkflowInput } from './workflowInput.js';

export function workflowResolvers({ engine, readModel }: Pick<ApiDeps, 'engine' | 'readModel'>) {
  return {
    Query: {
      // The read model lags the log by a moment: a workflow created just now comes from the log.
      // Another tenant's workflow is answered as an unknown one (null).
      workflow: async (_: unknown, { id }: { id: string }, context: unknown) => {
        const tenantId = tenantOfCaller(context);
        const projected = await readModel.getWorkflow(id, tenantId);
        if (projected) return projected;
        const latest = await engine.workflows.get(id);
        return latest && tenantOf(latest) === tenantId ? latest : null;
      },
      workflows: (_: unknown, __: unknown, context: unknown) => readModel.listWorkflows(tenantOfCaller(context)),
      nodeTypes: () =>
        engine.nodeTypes.list().map(({ definition, runs }) => ({
          type: definition.type,
          description: definition.description,
          trigger: runs === 'trigger',
          sideEffects: definition.sideEffects,
          outputs: definition.outputs,
          parameterSchema: definition.parameters,
        })),
      // The paths the engine itself checks on create and update, so both answer alike.
      validateWorkflow: async (_: unknown, { input, workflowId }: { input: WorkflowInput; workflowId?: string | null }, context: unknown) =>
        validateWorkflow(toDefinition(input), {
          nodeTypes: engine.nodeTypes.capabilities,
          webhookPathsInUse: await engine.triggers.webhooks.pathsInUse(workflowId ?? '', tenantOfCaller(context)),
        }),
    },
    Node: {
      parameters: ({ type, parameters }: NodeDefinition) => withoutWriteOnly(parameters, engine.nodeTypes.get(type)?.definition.writeOnlyParameters),
    },
    Mutation: {
      createWorkflow: (_: unknown, { input }: { input: WorkflowInput }, context: unknown) => engine.workflows.create(toDefinition(input), actorOf(context)),
      updateWorkflow: (_: unknown, { id, input }: { id: string; input: WorkflowInput }, context: unknown) => engine.workflows.update(id, toDefinition(input), actorOf(context)),
    },
  };
}

/** The parameters as answered: a write-only one (a webhook's secret) is left out, whoever asks. */
function withoutWriteOnly(parameters: NodeDefinition['parameters'], writeOnly: readonly string[] | undefined): NodeDefinition['parameters'] {
  if (!parameters || !writeOnly?.some((name) => name in parameters)) return parameters;
  return Object.fromEntries(Object.entries(parameters).filter(([name]) => !writeOnly.includes(name)));
}
