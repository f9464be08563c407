import { gql } from '../api.js';
import { h } from '../dom.js';
import { layoutDag } from '../graph/dagLayout.js';
import { DagView } from '../graph/dagView.js';
import { link, navigate } from '../navigation.js';
import { parseJson } from '../jsonInput.js';
import { isTrigger, WORKFLOW_FIELDS, type Workflow } from '../workflowTypes.js';
import { errorText, type Page } from './page.js';

const START = `mutation Start($workflowId: ID!, $triggerNodeId: ID!, $data: JSON) {
  startTrigger(workflowId: $workflowId, triggerNodeId: $triggerNodeId, data: $data) { id }
}`;

function startForm(workflow: Workflow): HTMLFormElement {
  const triggers = workflow.nodes.filter(isTrigger);
  const trigger = h('select', { name: 'trigger' }, ...triggers.map((node) => h('option', { value: node.id }, `${node.id} (${node.type})`)));
  const data = h('textarea', { name: 'data', rows: 5, placeholder: '{ "quantity": 3 }', spellcheck: 'false' });
  const message = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'start-form' },
    h('h2', {}, 'Start'),
    h('label', {}, 'Trigger ', trigger),
    h('label', {}, 'Data (JSON) ', data),
    h('button', { type: 'submit' }, 'Start'),
    message,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parseJson(data.value);
    if (!parsed.ok) return void (message.textContent = parsed.message);
    message.textContent = '';
    gql<{ startTrigger: { id: string } }>(START, { workflowId: workflow.id, triggerNodeId: trigger.value, data: parsed.value }).then(
      ({ startTrigger }) => navigate(`/executions/${encodeURIComponent(startTrigger.id)}`),
      (error: unknown) => (message.textContent = errorText(error)),
    );
  });
  return form;
}

export const renderWorkflow: Page = (main, id) => {
  main.replaceChildren(h('p', {}, 'Loading…'));
  let stopped = false;
  gql<{ workflow: Workflow | null }>(`query Workflow($id: ID!) { workflow(id: $id) { ${WORKFLOW_FIELDS} } }`, { id })
    .then(async ({ workflow }) => {
      if (!workflow) return void main.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Workflow ${id} not found (NOT_FOUND)`));
      const nodes = workflow.nodes.map((node) => ({ id: node.id, label: node.name ?? node.id, type: node.type }));
      const edges = workflow.connections.map((edge) => ({ source: edge.source, target: edge.target, label: edge.sourceOutput }));
      const dag = new DagView(await layoutDag(nodes, edges), nodes);
      if (stopped) return;
      const triggers = h('ul', {}, ...workflow.nodes.filter(isTrigger).map((node) => h('li', {}, `${node.id}: ${node.type}`)));
      main.replaceChildren(
        h('h1', {}, workflow.name, h('small', {}, ` version ${workflow.version}`)),
        h('p', {}, link(`/executions?workflow=${encodeURIComponent(workflow.id)}`, 'Its executions')),
        h('div', { class: 'dag-scroll' }, dag.element),
        h('section', { class: 'triggers' }, h('h2', {}, 'Triggers'), triggers),
        startForm(workflow),
      );
    })
    .catch((error: unknown) => main.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(error))));
  return () => void (stopped = true);
};
