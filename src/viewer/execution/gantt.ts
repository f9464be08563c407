import { duration, h } from '../dom.js';
import type { RecordedEvent } from './executionModel.js';

/** How an attempt ended, by the event that ended it. */
const ENDINGS: Record<string, string> = {
  NodeCompleted: 'COMPLETED',
  NodeFailed: 'FAILED',
  NodeRetryScheduled: 'FAILED',
  NodeCancelled: 'CANCELLED',
  NodeReleased: 'RELEASED',
};
/** The timeline's width in pixels; the time scale is one CSS variable, so a longer run rescales with one write. */
const WIDTH = 720;

export interface Attempt {
  nodeId: string;
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  outcome: string;
  bar: HTMLElement;
}

/**
 * A Gantt chart of node attempts, built from the event log as it arrives: a NodeStarted opens a
 * bar, the event that ends the attempt closes it. Only open bars change while time passes.
 */
export class Gantt {
  readonly element: HTMLElement;
  private readonly rows = h('div', { class: 'gantt-rows' });
  private readonly rowOf = new Map<string, HTMLElement>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly open = new Set<Attempt>();
  private origin: number | null = null;
  private span = 1;

  constructor() {
    this.element = h('div', { class: 'gantt', style: `--width:${WIDTH}` }, this.rows);
  }

  add(event: RecordedEvent): void {
    const at = Date.parse(event.recordedAt);
    this.origin ??= at;
    const { nodeId, attempt } = event.data;
    if (nodeId === undefined || attempt === undefined) return;
    const key = `${nodeId}#${attempt}`;
    if (event.type === 'NodeStarted') this.start(key, nodeId, attempt, at);
    const ending = ENDINGS[event.type];
    const running = this.attempts.get(key);
    if (ending && running && running.endedAt === null) {
      running.endedAt = at;
      running.outcome = ending;
      this.open.delete(running);
      this.place(running);
    }
    this.stretch(at);
  }

  /** Open bars grow to now; called once per frame of updates. */
  tick(now: number, live: boolean): void {
    if (!live) return;
    this.stretch(now);
    for (const attempt of this.open) this.place(attempt, now);
  }

  attemptsOf(nodeId: string): Attempt[] {
    return [...this.attempts.values()].filter((attempt) => attempt.nodeId === nodeId);
  }

  private start(key: string, nodeId: string, attempt: number, at: number): void {
    const bar = h('div', { class: 'gantt-bar', 'data-outcome': 'RUNNING' });
    const entry: Attempt = { nodeId, attempt, startedAt: at, endedAt: null, outcome: 'RUNNING', bar };
    this.attempts.set(key, entry);
    this.open.add(entry);
    this.row(nodeId).append(bar);
    this.place(entry, at);
  }

  private row(nodeId: string): HTMLElement {
    let track = this.rowOf.get(nodeId);
    if (!track) {
      track = h('div', { class: 'gantt-track' });
      this.rows.append(h('div', { class: 'gantt-row' }, h('span', { class: 'gantt-label', title: nodeId }, nodeId), track));
      this.rowOf.set(nodeId, track);
    }
    return track;
  }

  private place(attempt: Attempt, now = attempt.endedAt ?? attempt.startedAt): void {
    const end = attempt.endedAt ?? now;
    attempt.bar.style.setProperty('--start', String(attempt.startedAt - this.origin!));
    attempt.bar.style.setProperty('--length', String(Math.max(end - attempt.startedAt, 0)));
    attempt.bar.dataset.outcome = attempt.outcome;
    attempt.bar.title = `${attempt.nodeId} attempt ${attempt.attempt}: ${attempt.outcome}, ${duration(end - attempt.startedAt)}`;
  }

  private stretch(at: number): void {
    const span = Math.max(at - this.origin!, 1);
    if (span <= this.span) return;
    this.span = span;
    this.element.style.setProperty('--scale', String(WIDTH / span));
  }
}
