import { describe } from 'vitest';
import { createEsdbEventStore } from '../../src/eventstore/esdbEventStore.js';
import { eventStoreContract } from './eventStoreContract.js';

const url = process.env.EVENTSTORE_URL;

// EventStoreDB cannot run on the development machines: this run needs a server given by URL.
describe.skipIf(!url)('EventStoreDB', () => {
  eventStoreContract('event store on EventStoreDB', async () => {
    const store = createEsdbEventStore(url!);
    return { store, dispose: () => store.close() };
  });
});
