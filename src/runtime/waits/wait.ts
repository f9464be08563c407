/** A started attempt of a wait-run node, as a row of the waits table: all there is of a wait. */
export interface Wait {
  /** One wait per node of an execution (TableChanges' row key). */
  id: string;
  executionId: string;
  nodeId: string;
  attempt: number;
  tenantId: string;
  /** The emitEvent name it listens to; null: only signalNode completes it. */
  eventName: string | null;
  /** JSONata over `{ event, trigger, input }`; null: every event of its name matches. */
  match: string | null;
}
