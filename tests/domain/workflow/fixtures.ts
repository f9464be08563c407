import type { Connection, NodeDefinition, WorkflowDefinition } from '../../../src/domain/workflow/workflow.js';

export function node(id: string, type = 'noop', extra: Partial<NodeDefinition> = {}): NodeDefinition {
  return { id, type, ...extra };
}

export function trigger(id: string): NodeDefinition {
  return node(id, 'trigger.manual');
}

export function edge(source: string, target: string, sourceOutput?: string | null): Connection {
  return sourceOutput === undefined ? { source, target } : { source, target, sourceOutput };
}

/** Edges from a compact spec like 'a>b b>c'. */
export function edges(spec: string): Connection[] {
  return spec
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => {
      const [source = '', target = ''] = pair.split('>');
      return edge(source, target);
    });
}

export function definition(nodes: NodeDefinition[], connections: Connection[], extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
  return { name: 'test', nodes, connections, ...extra };
}

/** A trigger followed by `length - 1` noop nodes in a single line. */
export function chain(length: number): WorkflowDefinition {
  const nodes = Array.from({ length }, (_, i) => (i === 0 ? trigger('n0') : node(`n${i}`)));
  const connections = nodes.slice(1).map((_, i) => edge(`n${i}`, `n${i + 1}`));
  return definition(nodes, connections);
}
