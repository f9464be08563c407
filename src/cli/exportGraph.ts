import type { Client } from './client.js';
import { CliError } from './cliError.js';

export const FORMATS = ['mermaid', 'dot'] as const;
export type Format = (typeof FORMATS)[number];

const WORKFLOW = 'query Export($id: ID!) { workflow(id: $id) { id name nodes { id type name } connections { source target sourceOutput } } }';

interface Graph {
  name: string;
  nodes: Array<{ id: string; type: string; name: string | null }>;
  connections: Array<{ source: string; target: string; sourceOutput: string | null }>;
}

/** Mermaid: node ids become n0, n1, ... (a node id may hold characters Mermaid reads as syntax, or be `end`); the label keeps the real id. */
export function mermaid(graph: Graph): string {
  const key = new Map(graph.nodes.map((node, index) => [node.id, `n${index}`]));
  const text = (value: string) => value.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const node of graph.nodes)
    lines.push(`  ${key.get(node.id)}["${text(node.name && node.name !== node.id ? `${node.name} (${node.id})` : node.id)}<br/><small>${text(node.type)}</small>"]`);
  for (const edge of graph.connections) lines.push(`  ${key.get(edge.source)} -->${edge.sourceOutput ? `|${text(edge.sourceOutput)}|` : ''} ${key.get(edge.target)}`);
  return lines.join('\n') + '\n';
}

/** Graphviz DOT, every id quoted. */
export function dot(graph: Graph): string {
  const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [`digraph ${quote(graph.name)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const node of graph.nodes) lines.push(`  ${quote(node.id)} [label=${quote(`${node.name ?? node.id}\n${node.type}`)}];`);
  for (const edge of graph.connections) lines.push(`  ${quote(edge.source)} -> ${quote(edge.target)}${edge.sourceOutput ? ` [label=${quote(edge.sourceOutput)}]` : ''};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

export async function exportGraph(client: Client, workflowId: string, format: string): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(format)) throw new CliError('BAD_USER_INPUT', `--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  const { workflow } = await client.request<{ workflow: Graph | null }>(WORKFLOW, { id: workflowId });
  if (!workflow) throw new CliError('NOT_FOUND', `workflow ${workflowId} not found`);
  process.stdout.write(format === 'mermaid' ? mermaid(workflow) : dot(workflow));
}
