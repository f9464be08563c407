import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import elkjs from 'elkjs/lib/elk.bundled.js';

export interface DagNode {
  id: string;
  label: string;
  /** The node type, shown under the id. */
  type?: string;
}
export interface DagEdge {
  source: string;
  target: string;
  /** The `if` output this edge follows, if any. */
  label?: string | null;
}
export interface Point {
  x: number;
  y: number;
}
export interface Layout {
  width: number;
  height: number;
  nodes: Map<string, Point>;
  edges: Array<DagEdge & { points: Point[] }>;
}

export const NODE_WIDTH = 150;
export const NODE_HEIGHT = 44;

// elkjs is CommonJS typed as an ES module: its constructor is `default` of what the import gives (it sets both).
const elk = new elkjs.default();

/** A layered (Sugiyama) layout, left to right: what an execution flow reads like. */
export async function layoutDag(nodes: DagNode[], edges: DagEdge[]): Promise<Layout> {
  const input: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'POLYLINE',
      'elk.spacing.nodeNode': '16',
      'elk.layered.spacing.nodeNodeBetweenLayers': '48',
    },
    children: nodes.map((node) => ({ id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.map((edge, index): ElkExtendedEdge => ({ id: `e${index}`, sources: [edge.source], targets: [edge.target] })),
  };
  const graph = await elk.layout(input);
  const positions = new Map((graph.children ?? []).map((child) => [child.id, { x: child.x ?? 0, y: child.y ?? 0 }]));
  const routed = (graph.edges ?? []).map((edge, index) => {
    const section = edge.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    return { ...edges[index]!, points };
  });
  return { width: graph.width ?? 0, height: graph.height ?? 0, nodes: positions, edges: routed };
}
