import { gql } from '../api.js';
import { duration, h } from '../dom.js';
import { link } from '../navigation.js';
import { errorText } from '../pages/page.js';

/** The server's largest page of children. */
const CHILD_PAGE = 100;
/** The node types that start child executions. */
export const CHILD_TYPES = new Set(['workflow', 'map']);

interface Child {
  id: string;
  status: string;
  durationMs: number | null;
  itemIndex: number | null;
}
type Answer = { execution: { children: Child[] } | null };

const CHILDREN = `query Children($id: ID!, $nodeId: ID!, $first: Int!, $after: ID) {
  execution(id: $id) { children(nodeId: $nodeId, first: $first, after: $after) { id status durationMs itemIndex } } }`;

/** An execution id is long; its end tells children apart. */
const shortId = (id: string): string => (id.length > 12 ? `…${id.slice(-10)}` : id);

/** A map's child says which item it runs (the index its trigger data has); a workflow node's child says nothing. */
export const itemLabel = (itemIndex: number | null): string => (itemIndex === null ? '' : `item ${itemIndex}`);

/**
 * A workflow or map node's child executions in the API's order (by attempt, a map's by item), a
 * page at a time (More asks for the next). It outlives the inspector's redraws of its node:
 * refresh() reads the loaded pages again (one read at a time, the last request coming after it),
 * so pages already shown stay.
 */
export class ChildList {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly more = h('button', { type: 'button', hidden: true }, 'More');
  private readonly message = h('p', { class: 'error', role: 'alert' });
  private readonly rows = new Map<string, { row: HTMLLIElement; status: HTMLElement; took: Text }>();
  private pages = 1;
  private reading = false;
  private readAgain = false;

  constructor(
    private readonly executionId: string,
    readonly nodeId: string,
  ) {
    this.list = h('ol', { class: 'child-list', 'aria-label': `Child executions of ${nodeId}` });
    this.more.addEventListener('click', () => {
      this.pages += 1;
      this.refresh();
    });
    this.element = h('div', { class: 'children' }, this.list, this.more, this.message);
    this.refresh();
  }

  refresh(): void {
    if (this.reading) return void (this.readAgain = true);
    this.reading = true;
    this.more.disabled = true;
    this.read()
      .then(() => (this.message.textContent = ''))
      .catch((error: unknown) => (this.message.textContent = errorText(error)))
      .finally(() => {
        this.reading = false;
        this.more.disabled = false;
        if (this.readAgain) {
          this.readAgain = false;
          this.refresh();
        }
      });
  }

  private async read(): Promise<void> {
    let after: string | null = null;
    const order: HTMLLIElement[] = [];
    for (let page = 0; page < this.pages; page++) {
      const answer: Answer = await gql<Answer>(CHILDREN, {
        id: this.executionId,
        nodeId: this.nodeId,
        first: CHILD_PAGE,
        after,
      });
      const children = answer.execution?.children ?? [];
      for (const child of children) order.push(this.show(child));
      // Only a full page may have more after it.
      this.more.hidden = children.length < CHILD_PAGE;
      if (children.length < CHILD_PAGE) break;
      after = children.at(-1)!.id;
    }
    // Rows keep the answer's order: a child projected late (items start side by side) goes to its place, not last.
    if (order.length > 0) this.list.append(...order);
    if (!this.rows.size) this.list.replaceChildren(h('li', {}, 'none yet'));
  }

  /** A new child gets a row, a known one changes in place; answers its row. */
  private show(child: Child): HTMLLIElement {
    let shown = this.rows.get(child.id);
    if (!shown) {
      if (!this.rows.size) this.list.replaceChildren();
      const status = h('span', {});
      const took = document.createTextNode('');
      const item = child.itemIndex === null ? '' : h('span', { class: 'child-item', 'data-item-index': child.itemIndex }, itemLabel(child.itemIndex), ' ');
      const row = h(
        'li',
        { 'data-child-id': child.id },
        item,
        link(`/executions/${encodeURIComponent(child.id)}`, h('code', { title: child.id }, shortId(child.id))),
        ' ',
        status,
        took,
      );
      shown = { row, status, took };
      this.rows.set(child.id, shown);
    }
    shown.row.dataset.childStatus = child.status;
    shown.status.className = `badge status-${child.status}`;
    shown.status.textContent = child.status;
    shown.took.textContent = ` ${duration(child.durationMs)}`;
    return shown.row;
  }
}
