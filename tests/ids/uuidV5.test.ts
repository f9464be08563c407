import { describe, expect, it } from 'vitest';
import { eventId } from '../../src/commands/eventIds.js';
import { eventUuid } from '../../src/eventstore/esdbMapping.js';
import { derivedId } from '../../src/runtime/triggers/derivedId.js';

// Stored events and started executions carry these ids: a retried append or a trigger firing
// again after an upgrade must derive the very same ones (values from the code before the one helper).
describe('name-based ids', () => {
  it('stay what they were for event ids, derived execution ids and EventStoreDB uuids', () => {
    expect(eventId('s-é', 3, 1, 'T', { x: 'ü' })).toBe('6c302ba9-75dc-5d4c-8d50-9af56cc52322');
    expect(eventId('s', 0, 0, 'T', undefined)).toBe('1a21b055-2dd6-5056-bb15-628055be7591');
    expect(derivedId('event', 'a', 'b')).toBe('58768f14-f413-5978-8926-1d74d4d84320');
    expect(eventUuid('abc-ü')).toBe('0601f7c4-72c0-56c5-93ed-304b93415109');
  });
});
