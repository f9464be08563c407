import { gql } from '../api.js';
import { duration, h, json } from '../dom.js';
import { parseJson } from '../jsonInput.js';
import { navigate } from '../navigation.js';
import { errorText } from '../pages/page.js';
import { NODE_AT, NODE_NOW, RERUN, RETRY, SKIP, type Causation, type NodeDetail } from './executionModel.js';
import type { ChildList } from './childList.js';
import type { Attempt } from './gantt.js';

interface Context {
  executionId: string;
  /** The slider's event, or null when live. */
  eventNumber: number | null;
  attempts: Attempt[];
  /** A workflow or map node's child executions; null for other nodes. */
  children: ChildList | null;
  /** After a control acted: the page follows the execution live again. */
  acted: () => void;
}

function section(title: string, ...content: Array<Node | string>): HTMLElement {
  return h('section', {}, h('h3', {}, title), ...content);
}

const pre = (value: unknown): HTMLPreElement => h('pre', {}, json(value));

function causationText(causation: Causation): HTMLElement {
  const rule = `${causation.decision}${causation.decidedAtEvent ? ` at event ${causation.decidedAtEvent}` : ''}; rule ${causation.triggerRule}${causation.ruleHeld === null ? '' : causation.ruleHeld ? ' held' : ' did not hold'}`;
  const dependencies = causation.dependencies.map((dep) => h('li', {}, `${dep.nodeId}: ${dep.status}${dep.settledAtEvent ? ` (settled at event ${dep.settledAtEvent})` : ''}`));
  const edges = causation.incomingEdges.map((edge) =>
    h('li', {}, `from ${edge.source}${edge.sourceOutput ? ` [${edge.sourceOutput}]` : ''}: ${edge.active ? 'active' : 'inactive'}`),
  );
  const skipped = causation.skippedByNodes.length ? h('p', {}, `skipped because of: ${causation.skippedByNodes.join(', ')}`) : null;
  return h('div', { class: 'causation' }, h('p', {}, rule), skipped ?? '', h('ul', {}, ...dependencies, ...edges));
}

function attemptList(attempts: Attempt[]): HTMLElement {
  if (!attempts.length) return h('p', {}, 'none started');
  return h('ol', {}, ...attempts.map((each) => h('li', {}, `attempt ${each.attempt}: ${each.outcome}, ${duration((each.endedAt ?? Date.now()) - each.startedAt)}`)));
}

/** What the user typed into a control's box, by box name: kept when a live update redraws the same node. */
type Drafts = Map<string, string>;

/** A box that remembers what is typed into it (in `drafts`), and shows the draft instead of `initial` when there is one. */
function draftBox(drafts: Drafts, attrs: Record<string, string | number>, initial: string): HTMLTextAreaElement {
  const name = String(attrs.name);
  const box = h('textarea', { ...attrs, onInput: () => drafts.set(name, box.value) });
  box.value = drafts.get(name) ?? initial;
  return box;
}

/** The node's controls: Retry, Skip (with an output, or none), Rerun from it with an edited input. */
function controls(context: Context, node: NodeDetail, message: HTMLElement, drafts: Drafts): HTMLElement {
  const skipOutput = draftBox(drafts, { name: 'skipOutput', rows: 2, placeholder: 'output (JSON, optional)', spellcheck: 'false' }, '');
  const rerunInput = draftBox(
    drafts,
    { name: 'rerunInput', rows: 4, spellcheck: 'false' },
    node.input === null || node.input === undefined ? '' : JSON.stringify(node.input, null, 2),
  );
  const act = (query: string, variables: Record<string, unknown>, then?: (data: unknown) => void) => {
    message.textContent = '';
    gql(query, { id: context.executionId, nodeId: node.nodeId, ...variables }).then(
      (data) => {
        if (then) return then(data);
        message.textContent = 'done';
        context.acted();
      },
      (error: unknown) => (message.textContent = errorText(error)),
    );
  };
  const button = (label: string, onClick: () => void) => h('button', { type: 'button', onClick }, label);
  return h(
    'div',
    { class: 'node-controls' },
    button('Retry', () => act(RETRY, {})),
    h(
      'div',
      {},
      skipOutput,
      button('Skip', () => {
        const output = parseJson(skipOutput.value);
        if (!output.ok) return void (message.textContent = output.message);
        act(SKIP, output.value === undefined ? {} : { output: output.value });
      }),
    ),
    h(
      'div',
      {},
      h('label', {}, 'Rerun input (JSON) ', rerunInput),
      button('Rerun', () => {
        const data = parseJson(rerunInput.value);
        if (!data.ok) return void (message.textContent = data.message);
        act(RERUN, data.value === undefined ? {} : { data: data.value }, (answer) =>
          navigate(`/executions/${encodeURIComponent((answer as { rerunFromNode: { id: string } }).rerunFromNode.id)}`),
        );
      }),
    ),
  );
}

/**
 * Per inspector element: its latest render (an answer to an earlier one that comes later is
 * dropped: a slow answer for the node selected before must not replace the one selected now) and
 * the drafts typed into the node it shows (a live update redraws it; what the user typed stays).
 */
const rendered = new WeakMap<HTMLElement, { render: number; shown: string; drafts: Drafts }>();

/** The selected node: its state (at the slider's event), attempts, causation and controls. */
export async function inspect(target: HTMLElement, nodeId: string, context: Context): Promise<void> {
  const shown = `${context.executionId}/${nodeId}`;
  const before = rendered.get(target);
  const render = (before?.render ?? 0) + 1;
  const drafts = before?.shown === shown ? before.drafts : new Map<string, string>();
  rendered.set(target, { render, shown, drafts });
  // Another node: the previous node's controls go at once, so that nothing typed or clicked before
  // the answer arrives acts on the node that was shown before.
  if (before?.shown !== shown) target.replaceChildren(h('p', { class: 'loading' }, `loading node ${nodeId}…`));
  const query = context.eventNumber === null ? NODE_NOW : NODE_AT;
  const data = await gql<{ execution: { nodeStates: NodeDetail[] } | null; nodeCausation: Causation }>(query, {
    id: context.executionId,
    nodeId,
    eventNumber: context.eventNumber,
  });
  if (rendered.get(target)?.render !== render) return;
  const node = data.execution?.nodeStates.find((each) => each.nodeId === nodeId);
  if (!node) return void target.replaceChildren(h('p', {}, `node ${nodeId} is not part of this execution`));
  const message = h('p', { class: 'error', role: 'alert' });
  target.replaceChildren(
    h('h2', {}, `Node ${nodeId} `, h('span', { class: `badge status-${node.status}`, 'data-inspected-status': node.status }, node.status)),
    h(
      'p',
      {},
      `attempt ${node.attempt}, ${duration(node.durationMs)}${node.reusedFrom ? `, result reused from ${node.reusedFrom}` : ''}${node.message ? `, ${node.message}` : ''}`,
    ),
    node.error ? section('Error', h('pre', { class: 'error' }, `${node.error}${node.errorCode ? ` (${node.errorCode})` : ''}`)) : '',
    node.skipReason ? section('Skip reason', h('p', {}, node.skipReason)) : '',
    section('Input', pre(node.input)),
    section('Output', pre(node.output), node.outputName ? h('p', {}, `output taken: ${node.outputName}`) : ''),
    section('Attempts', attemptList(context.attempts)),
    context.children ? section('Child executions', context.children.element) : '',
    section('Causation', causationText(data.nodeCausation)),
    section('Controls', controls(context, node, message, drafts), message),
  );
}
