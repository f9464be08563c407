/** Where two JSON-like values differ, and how. */
export interface Difference {
  /** Dot-separated: `status`, `metrics.failedNodes`, `nodeStates.<nodeId>.output.total`. */
  path: string;
  expected: unknown;
  actual: unknown;
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/**
 * Every place where `actual` differs from `expected`, down to the leaves. Missing and null are
 * the same. Lists of node states are matched by nodeId, so that one node differing reads as that
 * node; a list of anything else differs as a whole.
 */
export function differences(expected: unknown, actual: unknown, path = ''): Difference[] {
  if (isRecord(expected) && isRecord(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].flatMap((key) => differences(expected[key], actual[key], join(path, key)));
  }
  if (isNodeList(expected) && isNodeList(actual)) return differences(byNodeId(expected), byNodeId(actual), path);
  const same = JSON.stringify(expected ?? null) === JSON.stringify(actual ?? null);
  return same ? [] : [{ path, expected: expected ?? null, actual: actual ?? null }];
}

const isNodeList = (value: unknown): value is Array<Json & { nodeId: string }> => Array.isArray(value) && value.every((item) => isRecord(item) && typeof item.nodeId === 'string');

const byNodeId = (list: Array<Json & { nodeId: string }>): Json => Object.fromEntries(list.map((item) => [item.nodeId, item]));
