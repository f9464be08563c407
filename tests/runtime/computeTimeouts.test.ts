import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';
import { eventsOf, flow } from '../support/flows.js';

/** Spins until something stops it: here the expression's own bound is far away, so the node's or the execution's comes first. */
const SPIN = '($f := function($x){ $f($x) }; $f(1))';

describe.each(BACKENDS)('side-effect-free nodes obey their timeouts on $name', ({ create }) => {
  const h = useHarness(create, { expressionTimeoutMs: 60_000 });

  it('fails a transform past its timeoutMs with EXECUTION_TIMEOUT, retried by its policy', { timeout: 60_000 }, async () => {
    const state = await h.run(
      flow([{ id: 'spin', type: 'transform', parameters: { mapping: SPIN }, timeoutMs: 300, retry: { maxAttempts: 2, initialDelayMs: 0 } }], [['start', 'spin']]),
    );
    expect(state.status).toBe('FAILED');
    const node = state.nodes.get('spin')!;
    expect(node).toMatchObject({ status: 'FAILED', attempt: 2, errorCode: 'EXECUTION_TIMEOUT', error: 'EXECUTION_TIMEOUT: node spin timed out after 300 ms' });
    const [retry] = await eventsOf(h, state.id, 'NodeRetryScheduled', 'spin');
    expect(retry!.data).toMatchObject({ attempt: 1, errorCode: 'EXECUTION_TIMEOUT' });
  });

  it('ends a spinning transform with its execution at executionTimeoutMs', { timeout: 60_000 }, async () => {
    const state = await h.run(flow([{ id: 'spin', type: 'transform', parameters: { mapping: SPIN } }], [['start', 'spin']], { executionTimeoutMs: 500 }));
    expect(state).toMatchObject({ status: 'FAILED', errorCode: 'EXECUTION_TIMEOUT' });
    expect(state.nodes.get('spin')!.status).toBe('CANCELLED');
  });

  it('fails a transform past its expression bound for good with EXPRESSION_LIMIT, whatever its retry policy', { timeout: 60_000 }, async () => {
    const mapping = '$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)';
    const engine = h.newEngine({ expressionTimeoutMs: 200 });
    await h.engine.stop();
    await engine.start();
    const workflow = await engine.workflows.create(
      flow([{ id: 'regex', type: 'transform', parameters: { mapping }, retry: { maxAttempts: 3, initialDelayMs: 0 } }], [['start', 'regex']]),
    );
    const started = await engine.startTrigger(workflow.id, 'start', {});
    const state = await h.waitFor(started.id, undefined, engine);
    expect(state.nodes.get('regex')).toMatchObject({ status: 'FAILED', attempt: 1, errorCode: 'EXPRESSION_LIMIT' });
    expect(state.nodes.get('regex')!.error).toMatch(/^EXPRESSION_LIMIT: expression .* went past its time bound of 200 ms$/);
  });
});
