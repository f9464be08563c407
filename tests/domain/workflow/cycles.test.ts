import { describe, expect, it } from 'vitest';
import { findCycles } from '../../../src/domain/workflow/cycles.js';
import { WorkflowGraph } from '../../../src/domain/workflow/graph.js';
import { chain, definition, edges, node } from './fixtures.js';
import { BUILTIN_TYPES } from '../../support/nodeTypes.js';

function cyclesOf(nodeIds: string, connections: string) {
  const graph = new WorkflowGraph(
    definition(
      nodeIds.split(' ').map((id) => node(id)),
      edges(connections),
    ),
    BUILTIN_TYPES,
  );
  return findCycles(graph).map(({ nodes, path, severity }) => ({ nodes, path, severity }));
}

describe('findCycles', () => {
  it.each([
    ['no cycle', 'a b c', 'a>b b>c a>c', []],
    ['self-loop', 'a', 'a>a', [{ nodes: ['a'], path: ['a', 'a'] }]],
    ['two-node cycle', 'a b', 'a>b b>a', [{ nodes: ['a', 'b'], path: ['a', 'b', 'a'] }]],
    ['three-node cycle', 'a b c', 'a>b b>c c>a', [{ nodes: ['a', 'b', 'c'], path: ['a', 'b', 'c', 'a'] }]],
    [
      'two disjoint cycles',
      'a b c x y',
      'a>b b>c c>a x>y y>x',
      [
        { nodes: ['a', 'b', 'c'], path: ['a', 'b', 'c', 'a'] },
        { nodes: ['x', 'y'], path: ['x', 'y', 'x'] },
      ],
    ],
    ['cycle inside a bigger graph', 't a b c d e f', 't>a a>b b>c c>d d>b d>e e>f a>f', [{ nodes: ['b', 'c', 'd'], path: ['b', 'c', 'd', 'b'] }]],
    [
      'self-loop next to a cycle',
      'a b c',
      'a>a a>b b>c c>b',
      [
        { nodes: ['a'], path: ['a', 'a'] },
        { nodes: ['b', 'c'], path: ['b', 'c', 'b'] },
      ],
    ],
    ['component with several cycles reports the shortest through its first member', 'a b c d', 'a>b b>c c>d d>a b>a', [{ nodes: ['a', 'b', 'c', 'd'], path: ['a', 'b', 'a'] }]],
    ['members listed in definition order', 'c b a', 'a>b b>c c>a', [{ nodes: ['c', 'b', 'a'], path: ['c', 'a', 'b', 'c'] }]],
  ])('%s', (_, nodeIds, connections, expected) => {
    expect(cyclesOf(nodeIds, connections)).toEqual(expected.map((cycle) => ({ ...cycle, severity: 'error' })));
  });

  it('every reported path is a closed walk over real edges inside its component', () => {
    const graph = new WorkflowGraph(
      definition(
        'a b c d e f g'.split(' ').map((id) => node(id)),
        edges('a>b b>c c>a c>d d>e e>f f>d f>g g>g'),
      ),
      BUILTIN_TYPES,
    );
    const cycles = findCycles(graph);
    expect(cycles).toHaveLength(3);
    for (const { nodes, path } of cycles) {
      expect(path[0]).toBe(path[path.length - 1]);
      for (let i = 0; i + 1 < path.length; i++) {
        expect(nodes).toContain(path[i]);
        expect(graph.dependents(path[i]!)).toContain(path[i + 1]);
      }
    }
  });

  it('finds a 20,000-node cycle without overflowing the stack', () => {
    const long = chain(20_000);
    long.connections.push({ source: 'n19999', target: 'n0' });
    const [cycle, ...rest] = findCycles(new WorkflowGraph(long, BUILTIN_TYPES));
    expect(rest).toEqual([]);
    expect(cycle?.nodes).toHaveLength(20_000);
    expect(cycle?.path).toHaveLength(20_001);
    expect(cycle?.path.slice(0, 2)).toEqual(['n0', 'n1']);
  });
});
