import { gql } from '../api.js';
import { duration, h } from '../dom.js';
import { link } from '../navigation.js';
import { errorText, type Page } from './page.js';

const STATUSES = ['QUEUED', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED', 'PARTIAL'];
const TRIGGER_TYPES = ['trigger.manual', 'trigger.webhook', 'trigger.schedule', 'trigger.event'];
/** The list is read again this often: new executions and status changes show up by themselves. */
const REFRESH_MS = 2000;
/** The server's largest page. */
const PAGE_SIZE = 100;

interface Row {
  id: string;
  workflowId: string;
  status: string;
  progress: number;
  triggerNodeId: string;
  triggerType: string;
  startedAt: string;
  durationMs: number | null;
}

const LIST = `query List($workflowId: ID, $status: ExecutionStatus, $triggerType: String, $startedAfter: String, $first: Int) {
  executions(workflowId: $workflowId, status: $status, triggerType: $triggerType, startedAfter: $startedAfter, first: $first) {
    totalCount
    nodes { id workflowId status progress triggerNodeId triggerType startedAt durationMs }
  }
}`;

function select(name: string, label: string, values: Array<[string, string]>, chosen: string | null): HTMLSelectElement {
  return h(
    'select',
    { name, 'aria-label': label },
    h('option', { value: '' }, `any ${label}`),
    ...values.map(([value, text]) => h('option', { value, selected: value === chosen }, text)),
  );
}

function row(execution: Row, workflowNames: Map<string, string>): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-id': execution.id },
    h('td', {}, link(`/executions/${encodeURIComponent(execution.id)}`, execution.id)),
    h('td', {}, workflowNames.get(execution.workflowId) ?? execution.workflowId),
    h('td', {}, h('span', { class: `badge status-${execution.status}` }, execution.status)),
    h('td', {}, `${Math.round(execution.progress)} %`),
    h('td', {}, `${execution.triggerNodeId} (${execution.triggerType})`),
    h('td', {}, new Date(execution.startedAt).toLocaleString()),
    h('td', {}, duration(execution.durationMs)),
  );
}

export const renderExecutions: Page = (main) => {
  const params = new URLSearchParams(location.search);
  const workflow = select('workflow', 'workflow', [], params.get('workflow'));
  const status = select(
    'status',
    'status',
    STATUSES.map((each) => [each, each]),
    params.get('status'),
  );
  const trigger = select(
    'trigger',
    'trigger',
    TRIGGER_TYPES.map((each) => [each, each]),
    params.get('trigger'),
  );
  const since = h('input', { type: 'datetime-local', name: 'since', 'aria-label': 'started after', value: params.get('since') ?? '' });
  const body = h('tbody');
  const summary = h('p', { 'aria-live': 'polite' });
  const names = new Map<string, string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const filters = () => ({
    workflowId: workflow.value || null,
    status: status.value || null,
    triggerType: trigger.value || null,
    startedAfter: since.value ? new Date(since.value).toISOString() : null,
    first: PAGE_SIZE,
  });
  const refresh = () => {
    clearTimeout(timer);
    gql<{ executions: { totalCount: number; nodes: Row[] } }>(LIST, filters())
      .then(({ executions }) => {
        body.replaceChildren(...executions.nodes.map((each) => row(each, names)));
        summary.textContent = `${executions.totalCount} executions${executions.totalCount > PAGE_SIZE ? `, the latest ${PAGE_SIZE} shown` : ''}; live`;
      })
      .catch((error: unknown) => (summary.textContent = errorText(error)))
      .finally(() => (timer = stopped ? undefined : setTimeout(refresh, REFRESH_MS)));
  };
  const changed = () => {
    const query = new URLSearchParams(Object.entries({ workflow: workflow.value, status: status.value, trigger: trigger.value, since: since.value }).filter(([, value]) => value));
    history.replaceState(null, '', `/executions${query.size ? `?${query.toString()}` : ''}`);
    refresh();
  };
  for (const control of [workflow, status, trigger, since]) control.addEventListener('change', changed);

  gql<{ workflows: Array<{ id: string; name: string }> }>('{ workflows { id name } }')
    .then(({ workflows }) => {
      for (const each of workflows) {
        names.set(each.id, each.name);
        workflow.append(h('option', { value: each.id, selected: each.id === params.get('workflow') }, each.name));
      }
    })
    .catch(() => undefined)
    .finally(refresh);

  const head = h('thead', {}, h('tr', {}, ...['Execution', 'Workflow', 'Status', 'Progress', 'Trigger', 'Started', 'Duration'].map((title) => h('th', {}, title))));
  main.replaceChildren(
    h('h1', {}, 'Executions'),
    h('form', { class: 'filters', role: 'search' }, workflow, status, trigger, h('label', {}, 'started after ', since)),
    summary,
    h('table', {}, head, body),
  );
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
