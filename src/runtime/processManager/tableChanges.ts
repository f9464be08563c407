import type { SqlExecutor } from '../../db/sqlClient.js';

interface NodeKey {
  executionId: string;
  nodeId: string;
}

const nodeKey = (executionId: string, nodeId: string) => `${executionId}\u0000${nodeId}`;

/**
 * What a batch of events does to a table of per-node rows (timers, claimable jobs), coalesced in
 * event order: clearing a node or an execution forgets the rows put before it, so that applying
 * the deletes first and the remaining puts after gives the same table as replaying each event.
 */
export class TableChanges<Row extends NodeKey & { id: string }> {
  private readonly executions = new Set<string>();
  private readonly nodes = new Map<string, NodeKey>();
  private readonly puts = new Map<string, Map<string, Row>>();

  get clearedExecutions(): string[] {
    return [...this.executions];
  }

  get clearedNodes(): NodeKey[] {
    return [...this.nodes.values()];
  }

  get rows(): Row[] {
    return [...this.puts.values()].flatMap((rows) => [...rows.values()]);
  }

  put(row: Row): void {
    const key = nodeKey(row.executionId, row.nodeId);
    const rows = this.puts.get(key) ?? new Map<string, Row>();
    rows.set(row.id, row);
    this.puts.set(key, rows);
  }

  clearNode(executionId: string, nodeId: string): void {
    const key = nodeKey(executionId, nodeId);
    this.puts.delete(key);
    this.nodes.set(key, { executionId, nodeId });
  }

  clearExecution(executionId: string): void {
    this.executions.add(executionId);
    const prefix = nodeKey(executionId, '');
    for (const key of this.nodes.keys()) if (key.startsWith(prefix)) this.nodes.delete(key);
    this.forget(executionId);
  }

  /** The rows put for one execution (to check them before they reach a transaction). */
  rowsOf(executionId: string): Row[] {
    const prefix = nodeKey(executionId, '');
    return [...this.puts].flatMap(([key, rows]) => (key.startsWith(prefix) ? [...rows.values()] : []));
  }

  /** Drops the rows put for one execution (its planning failed); what was cleared stays cleared. */
  forget(executionId: string): void {
    const prefix = nodeKey(executionId, '');
    for (const key of this.puts.keys()) if (key.startsWith(prefix)) this.puts.delete(key);
  }

  /** Deletes the rows of the cleared executions and nodes from `table` (keyed by execution_id, node_id). */
  async deleteCleared(tx: SqlExecutor, table: string): Promise<void> {
    if (this.executions.size > 0) await tx.query(`DELETE FROM ${table} WHERE execution_id = ANY($1::text[])`, [this.clearedExecutions]);
    const nodes = this.clearedNodes;
    if (nodes.length === 0) return;
    await tx.query(`DELETE FROM ${table} t USING unnest($1::text[], $2::text[]) AS n(e, id) WHERE t.execution_id = n.e AND t.node_id = n.id`, [
      nodes.map((node) => node.executionId),
      nodes.map((node) => node.nodeId),
    ]);
  }
}
