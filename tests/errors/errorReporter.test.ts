import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logErrors } from '../../src/errors/errorReporter.js';

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Array<Record<string, unknown>>) {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, destination);
}

describe('logErrors', () => {
  it('logs an error with the execution and node it concerns, and one without context as it is', () => {
    const lines: Array<Record<string, unknown>> = [];
    const report = logErrors(capturingLogger(lines), 'runtime error');
    report(new Error('boom'), { executionId: 'e-1', nodeId: 'n-1' });
    report(new Error('plain'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'runtime error', executionId: 'e-1', nodeId: 'n-1', err: { message: 'boom' } });
    expect(lines[1]).toMatchObject({ level: 50, msg: 'runtime error', err: { message: 'plain' } });
    expect(lines[1]).not.toHaveProperty('executionId');
  });
});
