import { h } from '../dom.js';
import type { RecordedEvent } from './executionModel.js';

/** The event log, appended to as events arrive; choosing a row moves the time slider there. */
export class EventLog {
  readonly element: HTMLElement;
  private readonly body = h('tbody');

  constructor(private readonly onChoose: (eventNumber: number) => void) {
    const head = h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Event'), h('th', {}, 'Node'), h('th', {}, 'Attempt'), h('th', {}, 'Recorded')));
    this.element = h('div', { class: 'event-log' }, h('table', {}, head, this.body));
  }

  append(events: RecordedEvent[]): void {
    const rows = events.map((event) => {
      const row = h(
        'tr',
        { 'data-event-number': event.eventNumber, title: 'Show the execution as it was after this event' },
        h('td', {}, event.eventNumber),
        h('td', {}, event.type),
        h('td', {}, event.data.nodeId ?? ''),
        h('td', {}, event.data.attempt ?? ''),
        h('td', {}, new Date(event.recordedAt).toLocaleTimeString()),
      );
      row.addEventListener('click', () => this.onChoose(event.eventNumber));
      return row;
    });
    this.body.append(...rows);
  }

  highlight(eventNumber: number | null): void {
    this.body.querySelector('tr.current')?.classList.remove('current');
    if (eventNumber !== null) this.body.querySelector(`tr[data-event-number="${eventNumber}"]`)?.classList.add('current');
  }
}
