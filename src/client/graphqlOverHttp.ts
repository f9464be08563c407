/** A GraphQL answer as the server sends it. */
export interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/**
 * One GraphQL request over HTTP with a bearer token, for the clients that ship with Cascade (the
 * CLI, the worker SDK): the HTTP status and the answer (null when the body is no JSON). A request
 * that gets no answer within `timeoutMs` fails, so a server that hangs hangs no client; a failed
 * fetch throws as fetch does, and each client says it in its own terms.
 */
export async function postGraphQL<T>(
  endpoint: string,
  authorization: string,
  body: { query: string; variables: Record<string, unknown> },
  timeoutMs: number,
): Promise<{ status: number; answer: GraphQLAnswer<T> | null }> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answer = (await response.json().catch(() => null)) as GraphQLAnswer<T> | null;
  return { status: response.status, answer };
}
