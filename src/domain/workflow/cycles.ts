import type { WorkflowGraph } from './graph.js';

export interface CircularDependency {
  /** Members of the strongly connected component, in definition order. */
  nodes: string[];
  /** One closed walk through the component, starting and ending at its first member. */
  path: string[];
  severity: 'error';
}

interface Frame {
  id: string;
  nextChild: number;
}

/**
 * Tarjan's strongly connected components with an explicit stack, so that long chains cannot
 * overflow the call stack. Components come out in reverse topological order.
 */
function stronglyConnectedComponents(graph: WorkflowGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];

  const visit = (id: string, frames: Frame[]): void => {
    const order = index.size;
    index.set(id, order);
    low.set(id, order);
    stack.push(id);
    onStack.add(id);
    frames.push({ id, nextChild: 0 });
  };

  const lower = (id: string, candidate: number): void => {
    if (candidate < (low.get(id) as number)) low.set(id, candidate);
  };

  const popComponent = (root: string): void => {
    const component: string[] = [];
    let member: string;
    do {
      // The root is on the stack below its component (Tarjan): the loop ends on it, never on an empty stack.
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== root);
    components.push(component);
  };

  for (const start of graph.nodeIds()) {
    if (index.has(start)) continue;
    const frames: Frame[] = [];
    visit(start, frames);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as Frame;
      const children = graph.dependents(frame.id);
      if (frame.nextChild < children.length) {
        const child = children[frame.nextChild++] as string;
        if (!index.has(child)) visit(child, frames);
        else if (onStack.has(child)) lower(frame.id, index.get(child) as number);
        continue;
      }
      frames.pop();
      if (low.get(frame.id) === index.get(frame.id)) popComponent(frame.id);
      const parent = frames[frames.length - 1];
      if (parent !== undefined) lower(parent.id, low.get(frame.id) as number);
    }
  }
  return components;
}

function isCyclic(graph: WorkflowGraph, component: readonly string[]): boolean {
  const only = component[0];
  return component.length > 1 || (only !== undefined && graph.dependents(only).includes(only));
}

/** Shortest closed walk from `start` back to itself inside the component (breadth-first). */
function closedWalk(graph: WorkflowGraph, start: string, members: ReadonlySet<string>): string[] {
  const parent = new Map<string, string>([[start, start]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const current = queue[head] as string;
    for (const next of graph.dependents(current)) {
      if (next === start) return [...pathTo(parent, start, current), start];
      if (!members.has(next) || parent.has(next)) continue;
      parent.set(next, current);
      queue.push(next);
    }
  }
  throw new Error(`Component of ${start} is not strongly connected`);
}

function pathTo(parent: ReadonlyMap<string, string>, start: string, end: string): string[] {
  const reversed = [end];
  for (let id = end; id !== start;) {
    id = parent.get(id) as string;
    reversed.push(id);
  }
  return reversed.reverse();
}

/** Every circular dependency: one entry per cyclic component (or self-loop), in definition order. */
export function findCycles(graph: WorkflowGraph): CircularDependency[] {
  const position = new Map(graph.nodeIds().map((id, i) => [id, i]));
  const byPosition = (a: string, b: string) => (position.get(a) as number) - (position.get(b) as number);
  return stronglyConnectedComponents(graph)
    .filter((component) => isCyclic(graph, component))
    .map((component) => component.sort(byPosition))
    .sort((a, b) => byPosition(a[0] as string, b[0] as string))
    .map((nodes) => ({ nodes, path: closedWalk(graph, nodes[0] as string, new Set(nodes)), severity: 'error' }));
}
