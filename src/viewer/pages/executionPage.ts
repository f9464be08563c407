import { gql, subscribe } from '../api.js';
import { h } from '../dom.js';
import { EventLog } from '../execution/eventLog.js';
import { AT, CONTROL, EVENTS, FINISHED, LIVE, LOAD, WORKFLOW, type ExecutionSummary, type NodeState, type RecordedEvent } from '../execution/executionModel.js';
import { ChildList, CHILD_TYPES, itemLabel } from '../execution/childList.js';
import { Gantt } from '../execution/gantt.js';
import { inspect } from '../execution/inspector.js';
import { MetricsPanel } from '../execution/metricsPanel.js';
import { ProgressBar } from '../execution/progressBar.js';
import { UpdateBatcher, type Batch } from '../execution/updateBatcher.js';
import { layoutDag, type DagEdge, type DagNode } from '../graph/dagLayout.js';
import { DagView } from '../graph/dagView.js';
import { link } from '../navigation.js';
import { errorText, type Page } from './page.js';

/** The server's largest page of events. */
const EVENT_PAGE = 1000;
/** How often a finished execution's page checks whether it was reopened. */
const REOPEN_CHECK_MS = 2000;
const VERSION = 'query Version($id: ID!) { execution(id: $id) { streamVersion } }';

type Loaded = {
  execution:
    | (ExecutionSummary & { parentExecutionId: string | null; parentNodeId: string | null; itemIndex: number | null; nodeStates: Array<NodeState & { dependencies: string[] }> })
    | null;
};
type WorkflowShape = {
  workflow: { nodes: Array<{ id: string; type: string; name: string | null }>; connections: Array<{ source: string; target: string; sourceOutput: string | null }> } | null;
};

async function graphOf(loaded: NonNullable<Loaded['execution']>): Promise<{ nodes: DagNode[]; edges: DagEdge[] }> {
  const { workflow } = await gql<WorkflowShape>(WORKFLOW, { id: loaded.workflowId }).catch(() => ({ workflow: null }));
  const types = new Map(workflow?.nodes.map((node) => [node.id, node]) ?? []);
  const outputs = new Map(workflow?.connections.map((edge) => [`${edge.source}>${edge.target}`, edge.sourceOutput]) ?? []);
  // The execution's own graph (its affected nodes, as it started), labelled from the workflow.
  const nodes = loaded.nodeStates.map((node) => ({ id: node.nodeId, label: types.get(node.nodeId)?.name ?? node.nodeId, type: types.get(node.nodeId)?.type }));
  const edges = loaded.nodeStates.flatMap((node) => node.dependencies.map((source) => ({ source, target: node.nodeId, label: outputs.get(`${source}>${node.nodeId}`) })));
  return { nodes, edges };
}

/** One execution, live: the DAG, progress, metrics, Gantt, event log, time slider, inspector and controls. */
class ExecutionScreen {
  private readonly live = new Map<string, NodeState>();
  private summary: ExecutionSummary;
  private readonly statusBadge = h('span', { class: 'badge', 'data-execution-status': '' });
  private readonly progress = new ProgressBar();
  private readonly metrics = new MetricsPanel();
  private readonly gantt = new Gantt();
  private readonly log = new EventLog((eventNumber) => this.showEvent(eventNumber));
  private readonly slider = h('input', { type: 'range', name: 'event', min: 1, max: 1, value: 1, step: 1, 'aria-label': 'Show the execution after event' });
  private readonly sliderText = h('span', { class: 'slider-text' });
  private readonly liveButton = h('button', { type: 'button', hidden: true }, 'Back to live');
  private readonly inspector = h('aside', { class: 'inspector' }, h('p', {}, 'Choose a node to inspect it.'));
  private readonly stats = h('p', { class: 'apply-stats' });
  private readonly buttons = Object.fromEntries(Object.keys(CONTROL).map((name) => [name, h('button', { type: 'button' }, name)])) as Record<
    keyof typeof CONTROL,
    HTMLButtonElement
  >;
  private readonly message = h('p', { class: 'error', role: 'alert' });
  private readonly batcher = new UpdateBatcher(
    (batch) => this.apply(batch),
    (stats, nodes) =>
      (this.stats.textContent = `${stats.frames} live updates applied; the last one, ${nodes} nodes, in ${stats.lastApplyMs.toFixed(2)} ms (slowest ${stats.maxApplyMs.toFixed(2)} ms)`),
  );
  private readonly dag: DagView;
  /** The slider's event while looking at the past; null while live. */
  private viewing: number | null = null;
  private eventsSeen = 0;
  private fetchingEvents = false;
  private selected: string | null = null;
  private bottlenecks = '';
  private readonly types: Map<string, string | undefined>;
  /** The selected node's children, kept while it stays selected (its pages stay loaded). */
  private children: ChildList | null = null;
  readonly element: HTMLElement;

  constructor(loaded: NonNullable<Loaded['execution']>, graph: { nodes: DagNode[]; edges: DagEdge[] }, layout: Awaited<ReturnType<typeof layoutDag>>) {
    this.summary = loaded;
    this.dag = new DagView(layout, graph.nodes, (nodeId) => this.select(nodeId));
    this.types = new Map(graph.nodes.map((node) => [node.id, node.type]));
    for (const node of loaded.nodeStates) this.live.set(node.nodeId, node);
    for (const [name, button] of Object.entries(this.buttons)) button.addEventListener('click', () => this.control(name as keyof typeof CONTROL));
    this.slider.addEventListener('input', () => this.showEvent(Number(this.slider.value)));
    this.liveButton.addEventListener('click', () => this.showEvent(this.summary.streamVersion));
    const title = h('h1', {}, `Execution ${loaded.id} `, this.statusBadge);
    const rerun = loaded.rerunOf ? h('p', {}, 'Re-runs ', link(`/executions/${encodeURIComponent(loaded.rerunOf)}`, loaded.rerunOf)) : '';
    const parent = loaded.parentExecutionId
      ? h(
          'p',
          { 'data-parent-execution': loaded.parentExecutionId },
          'child of ',
          link(`/executions/${encodeURIComponent(loaded.parentExecutionId)}`, loaded.parentExecutionId),
          ` (node ${[loaded.parentNodeId, itemLabel(loaded.itemIndex)].filter(Boolean).join(', ')})`,
        )
      : '';
    this.element = h(
      'div',
      { class: 'execution' },
      title,
      h('p', {}, 'Workflow ', link(`/workflows/${encodeURIComponent(loaded.workflowId)}`, loaded.workflowId), `, trigger ${loaded.triggerNodeId}`),
      rerun,
      parent,
      h('div', { class: 'controls' }, ...Object.values(this.buttons)),
      this.message,
      this.progress.element,
      h('div', { class: 'time-slider' }, h('label', {}, 'Event ', this.slider), this.sliderText, this.liveButton),
      h('div', { class: 'execution-body' }, h('div', { class: 'dag-scroll' }, this.dag.element), this.inspector),
      h('div', { class: 'panels' }, h('section', {}, h('h2', {}, 'Metrics'), this.metrics.element), h('section', {}, h('h2', {}, 'Timeline'), this.gantt.element)),
      h('section', {}, h('h2', {}, 'Event log'), this.log.element),
      this.stats,
    );
    this.paintAll(this.live.values(), loaded);
    this.fetchEvents();
  }

  private unsubscribe: (() => void) | null = null;
  private reopenTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  /**
   * Live messages go through the batcher: one application per animation frame. The server ends
   * the subscription with the execution; `force` (after a control acted) subscribes again at once,
   * its first message being a full snapshot.
   */
  goLive(force = false): void {
    if (this.stopped || (this.unsubscribe && !force)) return;
    this.unsubscribe?.();
    clearTimeout(this.reopenTimer);
    const subscription = subscribe<{ executionUpdated: { changedNodes: NodeState[]; execution: ExecutionSummary } }>(
      LIVE,
      { id: this.summary.id },
      {
        data: ({ executionUpdated }) => this.batcher.push(executionUpdated.changedNodes, executionUpdated.execution),
        ended: (error) => {
          if (this.unsubscribe !== subscription) return;
          this.unsubscribe = null;
          if (error) this.message.textContent = `live updates stopped: ${error}`;
          else this.watchForReopen();
        },
      },
    );
    this.unsubscribe = subscription;
  }

  /** A finished execution may be reopened (a retry or skip, from here or elsewhere): a new event means live again. */
  private watchForReopen(): void {
    this.reopenTimer = setTimeout(() => {
      gql<{ execution: { streamVersion: number } | null }>(VERSION, { id: this.summary.id })
        .then(({ execution }) => (execution && execution.streamVersion > this.summary.streamVersion ? this.goLive() : this.watchForReopen()))
        .catch(() => this.watchForReopen());
    }, REOPEN_CHECK_MS);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private apply(batch: Batch): void {
    for (const node of batch.nodes.values()) this.live.set(node.nodeId, node);
    if (batch.execution) this.summary = batch.execution;
    if (this.viewing === null) {
      for (const node of batch.nodes.values()) this.dag.setStatus(node.nodeId, node.status);
      this.paintSummary(this.summary);
    }
    this.updateSlider();
    this.gantt.tick(Date.now(), !FINISHED.has(this.summary.status));
    this.fetchEvents();
    if (this.selected && batch.nodes.has(this.selected) && this.viewing === null) this.refreshInspector();
  }

  private paintAll(nodes: Iterable<NodeState>, summary: ExecutionSummary): void {
    for (const node of nodes) this.dag.setStatus(node.nodeId, node.status);
    this.paintSummary(summary);
    this.updateSlider();
  }

  private paintSummary(summary: ExecutionSummary): void {
    this.statusBadge.dataset.executionStatus = summary.status;
    this.statusBadge.className = `badge status-${summary.status}`;
    this.statusBadge.textContent = summary.status;
    this.progress.show(summary.progress, summary.estimatedTimeRemainingMs, FINISHED.has(summary.status));
    this.metrics.show(summary.metrics);
    const bottlenecks = summary.metrics.bottleneckNodes.join(',');
    if (bottlenecks !== this.bottlenecks) this.dag.markBottlenecks(summary.metrics.bottleneckNodes);
    this.bottlenecks = bottlenecks;
    const live = this.viewing === null;
    this.buttons.Pause.disabled = !live || !['RUNNING', 'QUEUED'].includes(summary.status);
    this.buttons.Resume.disabled = !live || summary.status !== 'PAUSED';
    this.buttons.Cancel.disabled = !live || FINISHED.has(summary.status);
  }

  private updateSlider(): void {
    const max = this.summary.streamVersion;
    this.slider.max = String(max);
    if (this.viewing === null) this.slider.value = String(max);
    this.sliderText.textContent = this.viewing === null ? `live, ${max} events` : `after event ${this.viewing} of ${max}`;
    this.liveButton.hidden = this.viewing === null;
  }

  /** The execution as it was after an event; the last event means live again. */
  private showEvent(eventNumber: number): void {
    this.slider.value = String(eventNumber);
    this.log.highlight(eventNumber);
    if (eventNumber >= this.summary.streamVersion) {
      this.viewing = null;
      this.log.highlight(null);
      this.paintAll(this.live.values(), this.summary);
      return;
    }
    this.viewing = eventNumber;
    this.updateSlider();
    gql<{ executionAt: (ExecutionSummary & { nodeStates: NodeState[] }) | null }>(AT, { id: this.summary.id, eventNumber }).then(
      ({ executionAt }) => {
        // A later move of the slider wins over a slow answer.
        if (this.viewing !== eventNumber || !executionAt) return;
        this.paintAll(executionAt.nodeStates, executionAt);
        if (this.selected) this.refreshInspector();
      },
      (error: unknown) => (this.message.textContent = errorText(error)),
    );
  }

  private fetchEvents(): void {
    if (this.fetchingEvents || this.eventsSeen >= this.summary.streamVersion) return;
    this.fetchingEvents = true;
    gql<{ executionEvents: RecordedEvent[] }>(EVENTS, { id: this.summary.id, after: this.eventsSeen, first: EVENT_PAGE })
      .then(({ executionEvents }) => {
        for (const event of executionEvents) this.gantt.add(event);
        this.log.append(executionEvents);
        this.eventsSeen = executionEvents.at(-1)?.eventNumber ?? this.eventsSeen;
        this.gantt.tick(Date.now(), !FINISHED.has(this.summary.status));
        this.fetchingEvents = false;
        // More may have committed meanwhile, or the page was full.
        if (executionEvents.length) this.fetchEvents();
      })
      .catch((error: unknown) => {
        this.fetchingEvents = false;
        this.message.textContent = errorText(error);
      });
  }

  private select(nodeId: string): void {
    this.selected = nodeId;
    this.dag.select(nodeId);
    this.refreshInspector();
  }

  private refreshInspector(): void {
    const nodeId = this.selected!;
    const context = {
      executionId: this.summary.id,
      eventNumber: this.viewing,
      attempts: this.gantt.attemptsOf(nodeId),
      children: this.childrenOf(nodeId),
      acted: () => this.goLive(true),
    };
    inspect(this.inspector, nodeId, context).catch((error: unknown) => void this.inspector.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(error))));
  }

  private childrenOf(nodeId: string): ChildList | null {
    if (!CHILD_TYPES.has(this.types.get(nodeId) ?? '')) return (this.children = null);
    if (this.children?.nodeId === nodeId) this.children.refresh();
    else this.children = new ChildList(this.summary.id, nodeId);
    return this.children;
  }

  private control(name: keyof typeof CONTROL): void {
    this.message.textContent = '';
    gql(CONTROL[name], { id: this.summary.id }).then(
      () => this.goLive(true),
      (error: unknown) => (this.message.textContent = errorText(error)),
    );
  }
}

export const renderExecution: Page = (main, id) => {
  main.replaceChildren(h('p', {}, 'Loading…'));
  let stop = () => undefined as void;
  let stopped = false;
  (async () => {
    const { execution } = await gql<Loaded>(LOAD, { id });
    if (!execution) return void main.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Execution ${id} not found (NOT_FOUND)`));
    const graph = await graphOf(execution);
    const layout = await layoutDag(graph.nodes, graph.edges);
    if (stopped) return;
    const screen = new ExecutionScreen(execution, graph, layout);
    main.replaceChildren(screen.element);
    screen.goLive();
    stop = () => screen.stop();
  })().catch((error: unknown) => main.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(error))));
  return () => {
    stopped = true;
    stop();
  };
};
