import { duration, h } from '../dom.js';

/** role=progressbar with aria-valuenow in percent; its text adds the time remaining. */
export class ProgressBar {
  readonly element: HTMLElement;
  private readonly fill = h('div', { class: 'progress-fill' });
  private readonly text = h('span', { class: 'progress-text' });

  constructor() {
    this.element = h(
      'div',
      { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'aria-label': 'Execution progress' },
      this.fill,
      this.text,
    );
  }

  show(progress: number, remainingMs: number | null, finished: boolean): void {
    const percent = Math.round(Math.min(100, Math.max(0, progress)));
    const left = finished ? 'done' : remainingMs === null ? 'time left unknown' : `about ${duration(remainingMs)} left`;
    this.element.setAttribute('aria-valuenow', String(percent));
    this.element.setAttribute('aria-valuetext', `${percent} %, ${left}`);
    this.fill.style.transform = `scaleX(${percent / 100})`;
    this.text.textContent = `${percent} % · ${left}`;
  }
}
