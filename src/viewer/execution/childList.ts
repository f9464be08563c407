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
}

const CHILDREN = `query Children($id: ID!, $nodeId: ID!, $first: Int!, $after: ID) {
  execution(id: $id) { children(nodeId: $nodeId, first: $first, after: $after) { id status durationMs } } }`;

/** An execution id is long; its end tells children apart. */
const shortId = (id: string): string => (id.length > 12 ? `…${id.slice(-10)}` : id);

function row(child: Child): HTMLLIElement {
  return h(
    'li',
    { 'data-child-id': child.id, 'data-child-status': child.status },
    link(`/executions/${encodeURIComponent(child.id)}`, h('code', { title: child.id }, shortId(child.id))),
    ' ',
    h('span', { class: `badge status-${child.status}` }, child.status),
    ` ${duration(child.durationMs)}`,
  );
}

/** A workflow or map node's child executions, oldest first, a page at a time (More asks for the next). */
export function childList(executionId: string, nodeId: string): HTMLElement {
  const list = h('ol', { class: 'child-list', 'aria-label': `Child executions of ${nodeId}` });
  const more = h('button', { type: 'button', hidden: true }, 'More');
  const message = h('p', { class: 'error', role: 'alert' });
  let last: string | null = null;
  const load = (): void => {
    more.disabled = true;
    gql<{ execution: { children: Child[] } | null }>(CHILDREN, { id: executionId, nodeId, first: CHILD_PAGE, after: last }).then(
      ({ execution }) => {
        const page = execution?.children ?? [];
        list.append(...page.map(row));
        last = page.at(-1)?.id ?? last;
        if (!list.childElementCount) list.append(h('li', {}, 'none yet'));
        // A full page may have more after it.
        more.hidden = page.length < CHILD_PAGE;
        more.disabled = false;
      },
      (error: unknown) => {
        message.textContent = errorText(error);
        more.disabled = false;
      },
    );
  };
  more.addEventListener('click', load);
  load();
  return h('div', { class: 'children' }, list, more, message);
}
