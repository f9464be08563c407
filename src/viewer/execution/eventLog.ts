import { h } from '../dom.js';
import type { RecordedEvent } from './executionModel.js';

/** The event log, appended to as events arrive; choosing a row moves the time slider there. */
export class EventLog {
  readonly element: HTMLElement;
  // Rows of a grid, not a table: a table lays out every row again when rows are added, and an
  // execution of a thousand nodes has thousands of events.
  private readonly body = h('div', { class: 'event-rows', role: 'rowgroup' });

  constructor(private readonly onChoose: (eventNumber: number) => void) {
    const head = h(
      'div',
      { class: 'event-row event-head', role: 'row' },
      ...['#', 'Event', 'Node', 'Attempt', 'Recorded'].map((title) => h('span', { role: 'columnheader' }, title)),
    );
    this.element = h('div', { class: 'event-log', role: 'table', 'aria-label': 'Event log' }, head, this.body);
  }

  append(events: RecordedEvent[]): void {
    const rows = events.map((event) => {
      const cells = [event.eventNumber, event.type, event.data.nodeId ?? '', event.data.attempt ?? '', new Date(event.recordedAt).toLocaleTimeString()];
      const row = h(
        'div',
        { class: 'event-row', role: 'row', 'data-event-number': event.eventNumber, title: 'Show the execution as it was after this event' },
        ...cells.map((cell) => h('span', { role: 'cell' }, cell)),
      );
      row.addEventListener('click', () => this.onChoose(event.eventNumber));
      return row;
    });
    this.body.append(...rows);
  }

  highlight(eventNumber: number | null): void {
    this.body.querySelector('.current')?.classList.remove('current');
    if (eventNumber !== null) this.body.querySelector(`[data-event-number="${eventNumber}"]`)?.classList.add('current');
  }
}
