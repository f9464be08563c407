import { closeSubscriptions, whenUnauthenticated } from './api.js';
import { h } from './dom.js';
import { link, NAVIGATE } from './navigation.js';
import { renderExecution } from './pages/executionPage.js';
import { renderExecutions } from './pages/executionsPage.js';
import type { Page } from './pages/page.js';
import { renderSignIn } from './pages/signInPage.js';
import { renderWorkflow } from './pages/workflowPage.js';
import { renderWorkflows } from './pages/workflowsPage.js';
import { apiKey, signOut } from './session.js';

const ROUTES: Array<[RegExp, Page]> = [
  [/^\/(?:workflows\/?)?$/, renderWorkflows],
  [/^\/workflows\/([^/]+)$/, renderWorkflow],
  [/^\/executions\/?$/, renderExecutions],
  [/^\/executions\/([^/]+)$/, renderExecution],
];

const root = document.getElementById('app')!;
let stopPage: () => void = () => undefined;

function shell(): HTMLElement {
  const main = h('main');
  const signOutButton = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOutButton.addEventListener('click', () => {
    signOut();
    render();
  });
  root.replaceChildren(h('header', {}, h('strong', {}, 'Cascade'), h('nav', {}, link('/workflows', 'Workflows'), link('/executions', 'Executions')), signOutButton), main);
  return main;
}

function render(): void {
  stopPage();
  stopPage = () => undefined;
  if (!apiKey()) {
    closeSubscriptions();
    renderSignIn(root, render);
    return;
  }
  const main = shell();
  const path = location.pathname;
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      stopPage = page(main, match[1] && decodeURIComponent(match[1]));
      return;
    }
  }
  main.replaceChildren(h('p', {}, 'No such page. '), link('/workflows', 'Workflows'));
}

whenUnauthenticated(() => {
  signOut();
  render();
});
addEventListener('popstate', render);
addEventListener(NAVIGATE, render);
render();
