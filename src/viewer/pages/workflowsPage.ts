import { gql } from '../api.js';
import { h } from '../dom.js';
import { link } from '../navigation.js';
import { isTrigger, WORKFLOW_FIELDS, type Workflow } from '../workflowTypes.js';
import { errorText, type Page } from './page.js';

export const renderWorkflows: Page = (main) => {
  main.replaceChildren(h('h1', {}, 'Workflows'), h('p', {}, 'Loading…'));
  gql<{ workflows: Workflow[] }>(`{ workflows { ${WORKFLOW_FIELDS} } }`).then(
    ({ workflows }) => {
      const rows = workflows.map((workflow) =>
        h(
          'tr',
          {},
          h('td', {}, link(`/workflows/${encodeURIComponent(workflow.id)}`, workflow.name)),
          h('td', {}, workflow.version),
          h('td', {}, workflow.nodes.length),
          h(
            'td',
            {},
            workflow.nodes
              .filter(isTrigger)
              .map((node) => node.id)
              .join(', '),
          ),
        ),
      );
      const table = h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Version'), h('th', {}, 'Nodes'), h('th', {}, 'Triggers'))),
        h('tbody', {}, ...rows),
      );
      main.replaceChildren(
        h('h1', {}, 'Workflows'),
        workflows.length ? table : h('p', {}, 'No workflows yet: create one with the createWorkflow mutation (GraphiQL at /graphiql).'),
      );
    },
    (error: unknown) => main.replaceChildren(h('h1', {}, 'Workflows'), h('p', { class: 'error', role: 'alert' }, errorText(error))),
  );
  return () => undefined;
};
