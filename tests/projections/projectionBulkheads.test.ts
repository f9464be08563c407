import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../support/backends.js';
import { appendStream, startedEvent } from '../support/craftedStreams.js';
import { createProjectionHarness, flow, type ProjectionHarness } from './projectionHarness.js';

const linear = flow([{ id: 'a', type: 'noop' }], [['start', 'a']]);

describe.each(BACKENDS)('projection bulkheads on $name', ({ create }) => {
  let backend: Backend;
  let p: ProjectionHarness;
  const errors: unknown[] = [];

  beforeAll(async () => {
    backend = await create();
    p = await createProjectionHarness(backend);
  });
  afterAll(async () => {
    await p.close();
    await backend.dispose();
  });

  it('a batch with one execution it cannot fold projects the others, moves its checkpoint, and logs that execution', async () => {
    await p.runner.stop();
    // An event about a node the execution does not have (a bug of some older writer): folding it throws.
    const poisonous = randomUUID();
    const ghost = { type: 'NodeQueued' as const, data: { nodeId: 'ghost', attempt: 1, input: {}, at: new Date().toISOString() } };
    await appendStream(p.h.store, poisonous, [startedEvent(poisonous, [{ id: 'a', type: 'noop' }]), ghost]);
    const before = await Promise.all([p.h.run(linear), p.h.run(linear)]);

    // One runner picks all of it up from the checkpoint, in one batch.
    const runner = p.newRunner({ onError: (error) => errors.push(error) });
    await runner.start();
    await runner.caughtUp();
    for (const each of before) expect((await p.readModel.getExecution(each.id))?.status).toBe('COMPLETED');
    expect(await p.readModel.getExecution(poisonous)).toBeNull();
    expect(errors.map(String)).toContainEqual(expect.stringContaining(`execution ${poisonous}: its events could not be projected`));
    expect((errors.find((error) => String(error).includes(poisonous)) as Error).cause).toBeInstanceOf(Error);

    // The checkpoint moved past the poison: the next execution is projected, and no batch is redone.
    const failuresSoFar = errors.length;
    const after = await p.h.run(linear);
    await runner.caughtUp();
    expect((await p.readModel.getExecution(after.id))?.status).toBe('COMPLETED');
    expect(errors).toHaveLength(failuresSoFar);
  });
});
