import type { ExecutionSummary, NodeState } from './executionModel.js';

/** What one frame applies: the last state of every node that changed since the previous frame. */
export interface Batch {
  nodes: Map<string, NodeState>;
  execution: ExecutionSummary | null;
}

/** Timings of applying updates, read by the benchmark (bench/viewer) and shown under the page. */
export interface ApplyStats {
  frames: number;
  nodesApplied: number;
  /** The DOM writes of the last frame, in ms. */
  lastApplyMs: number;
  maxApplyMs: number;
  totalApplyMs: number;
  /** From the start of the last frame's writes to the next frame: the writes plus the browser's style, layout and paint. */
  lastFrameMs: number;
  maxFrameMs: number;
}

declare global {
  interface Window {
    cascadeViewerStats?: ApplyStats;
  }
}

/**
 * Collects subscription messages and applies them once per animation frame: a burst of a hundred
 * messages costs one pass over the nodes they changed, and the page never paints twice per frame.
 */
export class UpdateBatcher {
  private pending: Batch = { nodes: new Map(), execution: null };
  private scheduled = false;
  readonly stats: ApplyStats = { frames: 0, nodesApplied: 0, lastApplyMs: 0, maxApplyMs: 0, totalApplyMs: 0, lastFrameMs: 0, maxFrameMs: 0 };

  constructor(
    private readonly apply: (batch: Batch) => void,
    /** Told after each frame's writes, with the timings so far. */
    private readonly measured: (stats: ApplyStats, nodes: number) => void,
  ) {
    window.cascadeViewerStats = this.stats;
  }

  push(nodes: NodeState[], execution: ExecutionSummary | null): void {
    for (const node of nodes) this.pending.nodes.set(node.nodeId, node);
    if (execution) this.pending.execution = execution;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = { nodes: new Map(), execution: null };
    this.scheduled = false;
    const start = performance.now();
    this.apply(batch);
    const applied = performance.now() - start;
    const stats = this.stats;
    stats.frames += 1;
    stats.nodesApplied += batch.nodes.size;
    stats.lastApplyMs = applied;
    stats.maxApplyMs = Math.max(stats.maxApplyMs, applied);
    stats.totalApplyMs += applied;
    this.measured(stats, batch.nodes.size);
    requestAnimationFrame(() => {
      stats.lastFrameMs = performance.now() - start;
      stats.maxFrameMs = Math.max(stats.maxFrameMs, stats.lastFrameMs);
    });
  }
}
