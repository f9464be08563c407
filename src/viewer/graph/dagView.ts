import { h, svg } from '../dom.js';
import { NODE_HEIGHT, NODE_WIDTH, type DagNode, type Layout } from './dagLayout.js';

const MARGIN = 12;

/**
 * The DAG on screen: edges in one SVG, each node an element with `data-node-id` and `data-status`.
 * It keeps each node's element, so that a status change is one attribute write on one element.
 */
export class DagView {
  readonly element: HTMLElement;
  private readonly nodes = new Map<string, { box: HTMLElement; status: HTMLElement }>();
  private selected: string | null = null;

  constructor(layout: Layout, nodes: DagNode[], onSelect?: (nodeId: string) => void) {
    const width = layout.width + 2 * MARGIN;
    const height = layout.height + 2 * MARGIN;
    const edges = svg('svg', { class: 'dag-edges', width, height, 'aria-hidden': 'true' });
    edges.append(
      svg(
        'defs',
        {},
        svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0,0 L10,5 L0,10 z' })),
      ),
    );
    for (const edge of layout.edges) {
      const points = edge.points.map((point) => `${point.x + MARGIN},${point.y + MARGIN}`).join(' ');
      edges.append(svg('polyline', { points, 'marker-end': 'url(#arrow)' }));
      const middle = edge.points[Math.floor(edge.points.length / 2)];
      if (edge.label && middle) edges.append(svg('text', { x: middle.x + MARGIN + 4, y: middle.y + MARGIN - 4 }, edge.label));
    }
    this.element = h('div', { class: 'dag', style: `width:${width}px;height:${height}px` }, edges);
    for (const node of nodes) this.addNode(node, layout, onSelect);
  }

  private addNode(node: DagNode, layout: Layout, onSelect?: (nodeId: string) => void): void {
    const at = layout.nodes.get(node.id) ?? { x: 0, y: 0 };
    const status = h('span', { class: 'dag-node-status' });
    const box = h(
      'div',
      {
        class: 'dag-node',
        'data-node-id': node.id,
        style: `left:${at.x + MARGIN}px;top:${at.y + MARGIN}px;width:${NODE_WIDTH}px;height:${NODE_HEIGHT}px`,
        title: node.type ? `${node.label} (${node.type})` : node.label,
        tabindex: onSelect ? 0 : null,
        role: onSelect ? 'button' : null,
      },
      h('span', { class: 'dag-node-label' }, node.label),
      h('span', { class: 'dag-node-type' }, node.type ?? ''),
      status,
    );
    if (onSelect) {
      box.addEventListener('click', () => onSelect(node.id));
      box.addEventListener('keydown', (event) => event.key === 'Enter' && onSelect(node.id));
    }
    this.nodes.set(node.id, { box, status });
    this.element.append(box);
  }

  /** One node's status; no DOM write when it did not change. */
  setStatus(nodeId: string, status: string): void {
    const node = this.nodes.get(nodeId);
    if (!node || node.box.dataset.status === status) return;
    node.box.dataset.status = status;
    node.status.textContent = status;
  }

  markBottlenecks(nodeIds: string[]): void {
    const marked = new Set(nodeIds);
    for (const [id, { box }] of this.nodes) box.classList.toggle('bottleneck', marked.has(id));
  }

  select(nodeId: string): void {
    if (this.selected) this.nodes.get(this.selected)?.box.classList.remove('selected');
    this.selected = nodeId;
    this.nodes.get(nodeId)?.box.classList.add('selected');
  }
}
