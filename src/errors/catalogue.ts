/**
 * Every error code Cascade answers or records, declared once (Fastify's errors are the model):
 * request codes with the HTTP status an answer made of that error gets and the message it gets
 * when nothing more precise is known; node and execution codes with what they mean. The types
 * of codes elsewhere (DomainError, ApiError, NodeFailure, FailExecution) are drawn from here.
 * Data only, so that the domain may import its types and stay pure.
 */

interface RequestError {
  readonly status: number;
  readonly message: string;
}

/** What a request's `extensions.code` (GraphQL) or `error.code` (webhooks) says. */
export const REQUEST_ERRORS = {
  CIRCULAR_DEPENDENCY: { status: 400, message: 'The workflow has a cycle' },
  MISSING_DEPENDENCY: { status: 400, message: 'A connection names a node that does not exist' },
  VALIDATION_FAILED: { status: 400, message: 'The workflow breaks a rule or a bound' },
  BAD_USER_INPUT: { status: 400, message: 'An argument is malformed or out of bounds' },
  BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  GRAPHQL_PARSE_FAILED: { status: 400, message: 'The GraphQL document does not parse' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, message: 'The GraphQL document does not match the schema' },
  UNAUTHENTICATED: { status: 401, message: 'Missing or invalid credentials' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  /** A GraphQL document past a depth, alias, cost or token bound; refused before it runs. */
  QUERY_TOO_COMPLEX: { status: 400, message: 'The GraphQL document is past a depth, alias, cost or size bound' },
  NOT_FOUND: { status: 404, message: 'No such workflow, execution, node or webhook' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed here' },
  INVALID_FLOW_STATE: { status: 409, message: 'The execution or node is not in a state that allows this' },
  CONCURRENT_EXECUTION_CONFLICT: { status: 409, message: 'Another command changed the execution meanwhile' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than the limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON' },
  RATE_LIMITED: { status: 429, message: 'Too many requests in the last minute (RATE_LIMIT_PER_MINUTE)' },
  INTERNAL_SERVER_ERROR: { status: 500, message: 'Internal server error' },
  NOT_IMPLEMENTED: { status: 501, message: 'Not implemented yet' },
  /** setSecret on a server with no CASCADE_SECRETS_KEY (PostgreSQL deployments must set one). */
  SECRETS_UNAVAILABLE: { status: 503, message: 'Secrets need CASCADE_SECRETS_KEY on this server' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unavailable for the moment; try again' },
} as const satisfies Record<string, RequestError>;

/** What a failed node attempt's or execution's `errorCode` says. */
export const OUTCOME_ERRORS = {
  EXECUTION_TIMEOUT: { on: ['node', 'execution'], message: "The node's timeoutMs or the execution's executionTimeoutMs passed" },
  EXPRESSION_LIMIT: { on: ['node'], message: 'An expression went past its time, memory or depth bound' },
  SECRET_NOT_FOUND: { on: ['node'], message: 'An expression reads $secrets.NAME and the tenant has no secret of that name' },
  INVALID_OUTPUT: { on: ['node'], message: 'The node produced data the log cannot store' },
  LEASE_EXPIRED: { on: ['node'], message: 'The worker or runtime holding the attempt stopped renewing its lease' },
  HTTP_TIMEOUT: { on: ['node'], message: 'No complete answer within HTTP_NODE_TIMEOUT_MS' },
  HTTP_RESPONSE_TOO_LARGE: { on: ['node'], message: 'The response body is over HTTP_NODE_MAX_RESPONSE_BYTES' },
  HTTP_TOO_MANY_REDIRECTS: { on: ['node'], message: 'More than 5 redirects' },
  HTTP_BAD_REDIRECT: { on: ['node'], message: 'A redirect without a Location header' },
  HTTP_ADDRESS_BLOCKED: { on: ['node'], message: 'The address (after DNS resolution, on any hop) is link-local, or private with HTTP_NODE_BLOCK_PRIVATE' },
  INVALID_PARAMETERS: { on: ['node'], message: "The node's parameters, their {{ }} expressions resolved, break its type's schema" },
  WAIT_TIMEOUT: { on: ['node'], message: "A wait node's timeoutMs passed before a matching event or a signal came" },
  WAIT_MATCH_FAILED: { on: ['node'], message: "A wait node's match expression failed on an emitted event" },
  UNKNOWN_NODE_TYPE: { on: ['node'], message: 'The process running the node does not have its type registered' },
  SUBFLOW_DEPTH_EXCEEDED: { on: ['node'], message: 'A workflow or map node would nest child executions deeper than 10 (a workflow that calls itself ends here)' },
  CHILD_WORKFLOW_NOT_FOUND: { on: ['node'], message: 'The workflow a workflow or map node names does not exist, or its triggerNodeId is not a trigger of it' },
  CHILD_EXECUTION_FAILED: { on: ['node'], message: 'The child execution of a workflow node (or of a map item) failed or was cancelled' },
  MAP_TOO_MANY_ITEMS: { on: ['node'], message: "A map node's items are more than 10,000" },
  NODE_FAILED: { on: ['execution'], message: 'A node failed and the recovery settings let that fail the execution' },
  INTERNAL_ERROR: { on: ['execution'], message: 'The engine failed handling this execution' },
} as const satisfies Record<string, { on: ReadonlyArray<'node' | 'execution'>; message: string }>;

export type RequestErrorCode = keyof typeof REQUEST_ERRORS;
export type OutcomeErrorCode = keyof typeof OUTCOME_ERRORS;
/** The codes a failed node attempt records. */
export type NodeErrorCode = { [K in OutcomeErrorCode]: 'node' extends (typeof OUTCOME_ERRORS)[K]['on'][number] ? K : never }[OutcomeErrorCode];

/** The HTTP status of an answer made of this error. */
export const statusOf = (code: RequestErrorCode): number => REQUEST_ERRORS[code].status;

/** Every code of the catalogue, for the README's table to be checked against. */
export const ALL_ERROR_CODES: readonly string[] = [...Object.keys(REQUEST_ERRORS), ...Object.keys(OUTCOME_ERRORS)];
