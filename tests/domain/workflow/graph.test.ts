import { describe, expect, it } from 'vitest';
import { topologicalOrder, WorkflowGraph } from '../../../src/domain/workflow/graph.js';
import { chain, definition, edge, edges, node, trigger } from './fixtures.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';

// Two triggers sharing a tail:  t1 -> a -> c -> d,  t2 -> b -> c,  a -> d
const twoTriggers = new WorkflowGraph(
  definition([trigger('t1'), trigger('t2'), node('a'), node('b'), node('c'), node('d'), node('lonely')], edges('t1>a t2>b a>c b>c c>d a>d')),
  BUILTIN_TYPES,
);

function expectRespectsEdges(graph: WorkflowGraph, order: readonly string[], members: ReadonlySet<string>): void {
  const at = new Map(order.map((id, i) => [id, i]));
  for (const id of members) {
    for (const next of graph.dependents(id)) {
      if (members.has(next)) expect(at.get(id)!).toBeLessThan(at.get(next)!);
    }
  }
}

describe('WorkflowGraph queries', () => {
  it.each([
    ['t1', ['t1', 'a', 'c', 'd']],
    ['t2', ['t2', 'b', 'c', 'd']],
    ['c', ['c', 'd']],
    ['lonely', ['lonely']],
    ['unknown', []],
  ])('reachableFrom(%s)', (start, expected) => {
    expect([...twoTriggers.reachableFrom([start])].sort()).toEqual([...expected].sort());
  });

  it.each([
    ['c', ['a', 'b'], ['d']],
    ['d', ['c', 'a'], []],
    ['t1', [], ['a']],
    ['unknown', [], []],
  ])('dependencies and dependents of %s', (id, dependencies, dependents) => {
    expect(twoTriggers.dependencies(id)).toEqual(dependencies);
    expect(twoTriggers.dependents(id)).toEqual(dependents);
  });

  it('lists triggers in definition order', () => {
    expect(twoTriggers.triggers()).toEqual(['t1', 't2']);
  });

  it('keeps every connection but distinct dependencies', () => {
    const graph = new WorkflowGraph(definition([trigger('t'), node('i', 'if'), node('x')], [edge('t', 'i'), edge('i', 'x', 'true'), edge('i', 'x', 'false')]), BUILTIN_TYPES);
    expect(graph.outgoing('i')).toHaveLength(2);
    expect(graph.incoming('x')).toEqual([edge('i', 'x', 'true'), edge('i', 'x', 'false')]);
    expect(graph.dependencies('x')).toEqual(['i']);
    expect(graph.dependents('i')).toEqual(['x']);
  });

  it('ignores connections to unknown nodes and keeps the first of duplicated ids', () => {
    const graph = new WorkflowGraph(definition([trigger('t'), node('a'), node('a', 'delay')], edges('t>a a>ghost ghost>a')), BUILTIN_TYPES);
    expect(graph.nodeIds()).toEqual(['t', 'a']);
    expect(graph.node('a')?.type).toBe('noop');
    expect(graph.dependents('a')).toEqual([]);
    expect(graph.dependencies('a')).toEqual(['t']);
    expect(graph.has('ghost')).toBe(false);
  });
});

/** The order of `members` (default: all nodes) by the graph's own dependencies. */
const orderOf = (graph: WorkflowGraph, members: readonly string[] = graph.nodeIds()) => topologicalOrder(members, graph.graph.dependencies);

describe('topologicalOrder', () => {
  it('respects every edge of the whole graph', () => {
    const order = orderOf(twoTriggers);
    expect([...order].sort()).toEqual([...twoTriggers.nodeIds()].sort());
    expectRespectsEdges(twoTriggers, order, new Set(order));
  });

  it.each(['t1', 't2'])('orders exactly the closure of %s', (start) => {
    const closure = twoTriggers.reachableFrom([start]);
    const order = orderOf(
      twoTriggers,
      twoTriggers.nodeIds().filter((id) => closure.has(id)),
    );
    expect(new Set(order)).toEqual(closure);
    expectRespectsEdges(twoTriggers, order, closure);
  });

  it('breaks ties by definition order', () => {
    const graph = new WorkflowGraph(definition([node('z'), node('y'), node('x')], edges('z>x')), BUILTIN_TYPES);
    expect(orderOf(graph)).toEqual(['z', 'y', 'x']);
  });

  it('counts only edges inside the subset', () => {
    const graph = new WorkflowGraph(definition([node('a'), node('b'), node('c')], edges('a>b b>c c>a')), BUILTIN_TYPES);
    expect(orderOf(graph, ['b', 'c'])).toEqual(['b', 'c']);
  });

  it('leaves out the nodes on a cycle and what depends on them', () => {
    const graph = new WorkflowGraph(definition([trigger('t'), node('a'), node('b'), node('c')], edges('t>a a>b b>a b>c')), BUILTIN_TYPES);
    expect(orderOf(graph)).toEqual(['t']);
  });
});

describe('large graphs', () => {
  it('handles a 20,000-node chain iteratively', () => {
    const graph = new WorkflowGraph(chain(20_000), BUILTIN_TYPES);
    expect(graph.reachableFrom(['n0']).size).toBe(20_000);
    const order = orderOf(graph);
    expect(order[0]).toBe('n0');
    expect(order[19_999]).toBe('n19999');
  });
});
