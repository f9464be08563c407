/** `cascade/worker`: the worker SDK (DESIGN section 10), a client of a Cascade server's GraphQL API. */
export { createWorker } from './createWorker.js';
export { JobAborted } from './runningJob.js';
export { WorkerRequestError } from './graphqlRequest.js';
export type { Job, JobContext, JobHandler, Worker, WorkerEvent, WorkerOptions } from './workerTypes.js';
