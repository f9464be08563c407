import { describe, expect, it } from 'vitest';
import { mayMatch, parseNotificationHint } from '../../src/eventstore/notificationHint.js';

describe('append notification hints', () => {
  const hint = parseNotificationHint('execution-42|NodeStarted,NodeCompleted');

  it('reads the stream and the event types of the payload', () => {
    expect(hint).toEqual({ streamId: 'execution-42', types: ['NodeStarted', 'NodeCompleted'] });
    expect(parseNotificationHint('')).toBeNull();
  });

  it.each([
    ['no filter', undefined, true],
    ['a matching prefix', { streamPrefixes: ['workflow-', 'execution-'] }, true],
    ['another prefix only', { streamPrefixes: ['workflow-'] }, false],
    ['one of the types', { types: ['NodeCompleted', 'ExecutionCompleted'] }, true],
    ['none of the types', { types: ['ExecutionCompleted'] }, false],
    ['a matching prefix but none of the types', { streamPrefixes: ['execution-'], types: ['ExecutionFailed'] }, false],
  ])('wakes a subscription with %s: %s', (_, filter, expected) => {
    expect(mayMatch(filter, hint)).toBe(expected);
  });

  it('wakes every subscription when the payload says nothing', () => {
    expect(mayMatch({ types: ['ExecutionCompleted'] }, null)).toBe(true);
  });
});
