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
    let body: { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new WorkerRequestError('NETWORK', `request to ${endpoint} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const [first] = body.errors ?? [];
    if (first) throw new WorkerRequestError(first.extensions?.code ?? 'INTERNAL', first.message);
    return body.data as T;
  };
}
