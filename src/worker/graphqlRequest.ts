import { postGraphQL } from '../client/graphqlOverHttp.js';

/**
 * What the server answered with a coded error (`extensions.code`: INVALID_FLOW_STATE, NOT_FOUND,
 * FORBIDDEN, ...), or what went wrong on the way (code `NETWORK`).
 */
export class WorkerRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

/** Codes that say the attempt a worker holds is not its any more: nothing it sends again will change that. */
const ATTEMPT_LOST_CODES = new Set(['INVALID_FLOW_STATE', 'NOT_FOUND']);

export const isAttemptLost = (error: unknown): boolean => error instanceof WorkerRequestError && ATTEMPT_LOST_CODES.has(error.code);

/** How long one request may take before it counts as failed (a server that hangs must not hang the worker). */
const REQUEST_TIMEOUT_MS = 30_000;

export type Request = <T>(query: string, variables: Record<string, unknown>) => Promise<T>;

/** A GraphQL request over fetch with the worker's key: the data, or a WorkerRequestError. */
export function graphqlRequest(endpoint: string, apiKey: string): Request {
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const failed = (reason: string) => new WorkerRequestError('NETWORK', `request to ${endpoint} failed: ${reason}`);
    const { status, answer } = await postGraphQL<T>(endpoint, `Bearer ${apiKey}`, { query, variables }, REQUEST_TIMEOUT_MS).catch((error: unknown) => {
      throw failed(error instanceof Error ? error.message : String(error));
    });
    if (!answer) throw failed(`the server answered HTTP ${status} without GraphQL`);
    const [first] = answer.errors ?? [];
    if (first) throw new WorkerRequestError(first.extensions?.code ?? 'INTERNAL', first.message);
    return answer.data as T;
  };
}
