import { DomainError } from '../errors.js';
import { tenantOf } from '../tenants.js';
import { validateWorkflow, type ValidateWorkflowOptions, type ValidationResult } from './validateWorkflow.js';
import type { Workflow, WorkflowDefinition } from './workflow.js';
import type { WorkflowEvent } from './workflowEvents.js';

/** Creating or updating a workflow: valid definitions become a new version, invalid ones an error with a code. */
/** A new workflow belongs to `tenantId`; a new version keeps the tenant of the first. */
export function decideWorkflowChange(
  id: string,
  definition: WorkflowDefinition,
  current: Workflow | null,
  now: Date,
  options: ValidateWorkflowOptions,
  tenantId: string,
): WorkflowEvent[] {
  const result = validateWorkflow(definition, options);
  if (!result.isValid) throw validationError(result);
  const workflow: Workflow = {
    id,
    version: (current?.version ?? 0) + 1,
    name: definition.name,
    nodes: definition.nodes,
    connections: definition.connections,
    settings: definition.settings ?? {},
    tenantId: current ? tenantOf(current) : tenantId,
  };
  const at = now.toISOString();
  return [current ? { type: 'WorkflowUpdated', data: { workflow, at } } : { type: 'WorkflowCreated', data: { workflow, at } }];
}

export function evolveWorkflow(_state: Workflow | null, event: WorkflowEvent): Workflow {
  return event.data.workflow;
}

/** The most specific code wins: a cycle, then a missing node, then any other problem. */
function validationError(result: ValidationResult): DomainError {
  const details = { errors: result.errors, circularDependencies: result.circularDependencies };
  const first = result.errors[0];
  if (result.circularDependencies.length > 0) {
    const paths = result.circularDependencies.map((cycle) => cycle.path.join(' -> '));
    return new DomainError('CIRCULAR_DEPENDENCY', `circular dependency: ${paths.join('; ')}`, details);
  }
  const missing = result.errors.find((error) => error.type === 'MISSING_DEPENDENCY');
  if (missing) return new DomainError('MISSING_DEPENDENCY', missing.message, details);
  return new DomainError('VALIDATION_FAILED', `invalid workflow: ${first?.message ?? 'unknown problem'}`, details);
}
