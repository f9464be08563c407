import type { ValidateFunction } from 'ajv';
import { approvalNode } from './approval.js';
import type { NodeCapabilities, NodeTypeLookup } from '../domain/workflow/nodeCapabilities.js';
import { delayNode } from './delay.js';
import { externalNode } from './external.js';
import { failNode } from './fail.js';
import { httpNode, type HttpNodeOptions } from './http.js';
import { ifNode } from './if.js';
import { mapNode } from './map.js';
import { mergeNode } from './merge.js';
import type { NodeType } from './nodeType.js';
import { noopNode } from './noop.js';
import { compileParameterSchema, savedParameterProblems, schemaProblems } from './parameterSchema.js';
import { transformNode } from './transform.js';
import { eventTrigger } from './triggerEvent.js';
import { manualTrigger } from './triggerManual.js';
import { scheduleTrigger } from './triggerSchedule.js';
import { webhookTrigger } from './triggerWebhook.js';
import { waitNode } from './wait.js';
import { workflowNode } from './workflow.js';

/** The built-in types; `http` takes the engine's bounds. */
export const builtinNodeTypes = (http: HttpNodeOptions): NodeType[] => [
  manualTrigger,
  webhookTrigger,
  scheduleTrigger,
  eventTrigger,
  noopNode,
  mergeNode,
  delayNode,
  ifNode,
  transformNode,
  httpNode(http),
  failNode,
  externalNode,
  waitNode,
  approvalNode,
  workflowNode,
  mapNode,
];

/** A user type's name: namespaced with a dot, so that it can never take a built-in's name. */
const USER_TYPE = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;

/** A registered type with its compiled schema: what the domain sees (capabilities) and what the runner runs. */
export interface RegisteredNodeType extends NodeCapabilities {
  readonly definition: NodeType;
  /** Problems of parameters once resolved (no expressions left), against the schema alone. */
  resolvedProblems(parameters: unknown): string[];
}

function register(definition: NodeType): RegisteredNodeType {
  const validate: ValidateFunction = compileParameterSchema(definition.type, definition.parameters);
  const plain = definition.expressionParameters ?? [];
  return {
    type: definition.type,
    runs: definition.runs,
    sideEffects: definition.sideEffects,
    outputs: definition.outputs,
    webhookPath: definition.webhookPath,
    definition,
    checkParameters: (parameters) => savedParameterProblems(validate, definition.parameters, parameters, plain),
    resolvedProblems: (parameters) => schemaProblems(validate, definition.parameters, parameters),
  };
}

function checkUserType(type: NodeType, taken: ReadonlyMap<string, unknown>): void {
  if (!USER_TYPE.test(type.type)) throw new Error(`node type "${type.type}": a user type is namespaced with a dot, as in acme.upper`);
  if (taken.has(type.type)) throw new Error(`node type "${type.type}" is registered twice`);
  if (type.outputs.length === 0) throw new Error(`node type "${type.type}" declares no outputs`);
  if (typeof type.execute !== 'function') throw new Error(`node type "${type.type}" has no execute function`);
}

/** Every node type the engine knows, by name: the built-ins and the user's (defineNodeType). */
export class NodeTypeRegistry {
  /** What the validator and the decider look types up in. */
  readonly capabilities: NodeTypeLookup;
  private readonly types: ReadonlyMap<string, RegisteredNodeType>;

  constructor(builtins: readonly NodeType[], userTypes: readonly NodeType[] = []) {
    const types = new Map<string, RegisteredNodeType>(builtins.map((type) => [type.type, register(type)]));
    for (const type of userTypes) {
      checkUserType(type, types);
      types.set(type.type, register(type));
    }
    this.types = types;
    this.capabilities = types;
  }

  get(type: string): RegisteredNodeType | undefined {
    return this.types.get(type);
  }

  list(): RegisteredNodeType[] {
    return [...this.types.values()];
  }
}
