import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../src/domain/execution/state.js';
import { DomainError } from '../../src/domain/errors.js';
import { defineNodeType, PermanentNodeError } from '../../src/index.js';
import { BACKENDS } from '../support/backends.js';
import { useHarness } from '../support/engineHarness.js';
import { appendStream, startedEvent } from '../support/craftedStreams.js';
import { begin, eventsOf, flow } from '../support/flows.js';

/** What the types saw, by execution id: attempts made and signals aborted. */
const seen = new Map<string, { attempts: number[]; aborted: number[]; parameters: unknown[] }>();
const record = (executionId: string) => seen.get(executionId) ?? seen.set(executionId, { attempts: [], aborted: [], parameters: [] }).get(executionId)!;

/** Fails until its attempt reaches `succeedOn`; side-effect free, so it takes the in-process fast path. */
const flaky = defineNodeType<{ succeedOn: number }>({
  type: 'test.flaky',
  description: 'fails its first attempts',
  parameters: { type: 'object', required: ['succeedOn'], properties: { succeedOn: { type: 'integer', minimum: 1, maximum: 10 } } },
  sideEffects: false,
  execute: async ({ parameters, attempt, execution, input }) => {
    record(execution.id).attempts.push(attempt);
    if (attempt < parameters.succeedOn) throw new Error(`attempt ${attempt} failed`);
    return { output: { attempt, input } };
  },
});

/** Waits until its signal aborts; with side effects, so it is leased like http. `progress` is reported first. */
const waiting = (sideEffects: boolean) =>
  defineNodeType({
    type: sideEffects ? 'test.waitLeased' : 'test.waitPure',
    parameters: { type: 'object', properties: {} },
    sideEffects,
    execute: async ({ signal, attempt, execution, reportProgress }) => {
      record(execution.id).attempts.push(attempt);
      await reportProgress(50, 'half way');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      record(execution.id).aborted.push(attempt);
      throw new Error('aborted');
    },
  });

/** Gives back its resolved parameters, on the output its `branch` parameter names. */
const echo = defineNodeType<{ value?: unknown; text?: string; branch?: string }>({
  type: 'test.echo',
  parameters: {
    type: 'object',
    properties: { value: {}, text: { type: 'string', maxLength: 20 }, branch: { enum: ['left', 'right'] } },
    additionalProperties: false,
  },
  outputs: ['left', 'right'],
  sideEffects: false,
  execute: async ({ parameters, execution }) => {
    record(execution.id).parameters.push(parameters);
    if (parameters.text === 'permanent') throw new PermanentNodeError('no retry for this');
    return { output: parameters, outputName: parameters.branch ?? 'left' };
  },
});

const TYPES = [flaky, waiting(true), waiting(false), echo];

describe.each(BACKENDS)('user node types ($name)', (backend) => {
  const h = useHarness(backend.create, { nodeTypes: TYPES, leaseMs: 60_000 });

  const until = async (executionId: string, done: (state: ExecutionState) => boolean) => h.waitFor(executionId, done);

  it('runs and retries a user type by its retry policy', async () => {
    const state = await h.run(flow([{ id: 'f', type: 'test.flaky', parameters: { succeedOn: 3 }, retry: { maxAttempts: 3, initialDelayMs: 1 } }], [['start', 'f']]), 'start', {
      n: 1,
    });
    expect(state.status).toBe('COMPLETED');
    expect(state.nodes.get('f')!.output).toEqual({ attempt: 3, input: { start: { n: 1 } } });
    expect(record(state.id).attempts).toEqual([1, 2, 3]);
    expect((await eventsOf(h, state.id, 'NodeRetryScheduled', 'f')).map((event) => event.data.error)).toEqual(['attempt 1 failed', 'attempt 2 failed']);
  });

  it('fails a user type for good on a PermanentNodeError, whatever its retry policy', async () => {
    const state = await h.run(flow([{ id: 'e', type: 'test.echo', parameters: { text: 'permanent' }, retry: { maxAttempts: 5 } }], [['start', 'e']]));
    expect(state.status).toBe('FAILED');
    expect(state.nodes.get('e')).toMatchObject({ status: 'FAILED', attempt: 1, error: 'no retry for this' });
  });

  it.each([true, false])('times a user type out after its timeoutMs and aborts its signal (side effects: %s)', async (sideEffects) => {
    const type = sideEffects ? 'test.waitLeased' : 'test.waitPure';
    const state = await h.run(flow([{ id: 'w', type, timeoutMs: 300 }], [['start', 'w']]));
    expect(state.status).toBe('FAILED');
    expect(state.nodes.get('w')).toMatchObject({ status: 'FAILED', errorCode: 'EXECUTION_TIMEOUT' });
    await expect.poll(() => record(state.id).aborted, { timeout: 30_000 }).toEqual([1]);
  });

  it('records the progress of a leased user type, and aborts its signal when the execution is cancelled', async () => {
    const id = await begin(h, flow([{ id: 'w', type: 'test.waitLeased' }], [['start', 'w']]));
    await until(id, (state) => state.nodes.get('w')?.status === 'RUNNING' && state.nodes.get('w')?.progress === 50);
    await h.engine.executions.handle(id, { type: 'CancelExecution', data: { reason: 'enough' } });
    const state = await until(id, (each) => each.status === 'CANCELLED');
    expect(state.nodes.get('w')!.status).toBe('CANCELLED');
    await expect.poll(() => record(id).aborted, { timeout: 30_000 }).toEqual([1]);
    expect((await eventsOf(h, id, 'NodeProgressed', 'w')).some((event) => event.data.message === 'half way')).toBe(true);
  });

  it('refuses to save a user type whose parameters break its schema, listing every problem', async () => {
    const definition = flow([{ id: 'e', type: 'test.echo', parameters: { text: 'x'.repeat(21), branch: 'up', extra: 1 } }], [['start', 'e']]);
    const error = (await h.engine.workflows.create(definition).catch((caught: unknown) => caught)) as DomainError;
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('VALIDATION_FAILED');
    const messages = (error.details.errors as Array<{ type: string; message: string }>).map((each) => `${each.type}: ${each.message}`);
    expect(messages).toEqual([
      "INVALID_PARAMETERS: Node 'e' (test.echo): parameters must NOT have additional properties (extra)",
      "INVALID_PARAMETERS: Node 'e' (test.echo): text must NOT have more than 20 characters",
      "INVALID_PARAMETERS: Node 'e' (test.echo): branch must be equal to one of the allowed values",
    ]);
  });

  it('refuses a connection from an output the user type does not declare, and an unknown type', async () => {
    const definition = flow(
      [
        { id: 'e', type: 'test.echo' },
        { id: 'u', type: 'acme.unknown' },
      ],
      [
        ['start', 'e'],
        ['e', 'u', 'middle'],
      ],
    );
    const error = (await h.engine.workflows.create(definition).catch((caught: unknown) => caught)) as DomainError;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect((error.details.errors as Array<{ type: string }>).map((each) => each.type).sort()).toEqual(['INVALID_SOURCE_OUTPUT', 'UNKNOWN_NODE_TYPE']);
  });

  it('fails a node whose type this process does not have (a user type left out since) with UNKNOWN_NODE_TYPE, instead of leaving it queued', async () => {
    const id = randomUUID();
    await appendStream(h.store, id, [startedEvent(id, [{ id: 'gone', type: 'acme.gone' }])]);
    const state = await h.waitFor(id);
    expect(state.status).toBe('FAILED');
    expect(state.nodes.get('gone')).toMatchObject({ status: 'FAILED', errorCode: 'UNKNOWN_NODE_TYPE' });
  });

  it('takes the output a user type names, and skips the other branch', async () => {
    const definition = flow(
      [
        { id: 'e', type: 'test.echo', parameters: { branch: 'right' } },
        { id: 'l', type: 'noop' },
        { id: 'r', type: 'noop' },
      ],
      [
        ['start', 'e'],
        ['e', 'l', 'left'],
        ['e', 'r', 'right'],
      ],
    );
    const state = await h.run(definition);
    expect([state.nodes.get('l')!.status, state.nodes.get('r')!.status]).toEqual(['SKIPPED', 'COMPLETED']);
  });
});
