/**
 * The largest value of every number and string a user can set, in one place: workflow validation
 * refuses larger ones with VALIDATION_FAILED, the API with BAD_USER_INPUT, and the README lists
 * them. Each bound keeps a value far from where arithmetic on it (dates, backoff) breaks, while
 * leaving room for every real use we know of.
 */

const SECOND_MS = 1000;
const HOUR_MS = 60 * 60 * SECOND_MS;
const DAY_MS = 24 * HOUR_MS;

/** A delay node's `ms`: a year covers any wait modelled as a delay, and `now + ms` stays a valid Date. */
export const MAX_DELAY_MS = 365 * DAY_MS;

/** A `wait` node's `timeoutMs`: a year, as for a delay (a wait is a row, however long it lasts). */
export const MAX_WAIT_TIMEOUT_MS = MAX_DELAY_MS;

/** A node's `timeoutMs`: a week, the longest human-in-the-loop step (an external approval) we expect. */
export const MAX_NODE_TIMEOUT_MS = 7 * DAY_MS;

/** `settings.executionTimeoutMs`: 24 days, just under GraphQL's 32-bit Int (2,147,483,647 ms), so that every value the schema can carry is either valid or refused with a clear message. */
export const MAX_EXECUTION_TIMEOUT_MS = 24 * DAY_MS;

/** `retry.maxAttempts`: past 100 attempts a node is not flaky but broken; each attempt is events in the log. */
export const MAX_ATTEMPTS = 100;

/** `settings.recovery.maxRetryAttempts`: retries after the first attempt, so at most MAX_ATTEMPTS attempts. */
export const MAX_RETRY_ATTEMPTS = MAX_ATTEMPTS - 1;

/** `retry.initialDelayMs` and `retry.maxDelayMs`: a day between attempts; longer waits are a schedule, not a retry. */
export const MAX_RETRY_DELAY_MS = DAY_MS;

/** The cap of computed retry delays when a policy sets no `maxDelayMs`: an hour, so that backoff never grows unbounded. */
export const DEFAULT_MAX_RETRY_DELAY_MS = HOUR_MS;

/** `retry.backoffFactor`: 10 already turns 1 s into a day by the sixth attempt. */
export const MAX_BACKOFF_FACTOR = 10;

/** `settings.maxConcurrentExecutions` and `settings.maxConcurrentExecutionsPerUser`: above this the limit is no limit; admission keeps a row per running execution. */
export const MAX_CONCURRENT_EXECUTIONS = 10_000;

/** A `fail` node's `failTimes`: it can never fail more attempts than a node can have. */
export const MAX_FAIL_TIMES = MAX_ATTEMPTS;

/** Lease of an external worker (`claimNodes(leaseMs)`, `reportNodeProgress(leaseMs)`): an hour; a worker that is alive heartbeats far more often, and a dead one keeps its node from others for at most this long. */
export const MAX_LEASE_MS = HOUR_MS;

/** `claimNodes(max)`: one call hands out at most this many nodes, each one StartNode command. */
export const MAX_CLAIM = 1_000;

/** `executions(first)`: one page of executions, each a full read-model row with its nodes. */
export const MAX_EXECUTIONS_PAGE = 100;

/** `executionEvents(first)`: events are small; a thousand per page keeps an answer within a few MB. */
export const MAX_EVENTS_PAGE = 1_000;

/** Ids and names a user gives (workflow name, node ids and names, event names, queues, worker ids, any ID argument): long enough for a UUID with a prefix or a readable title. */
export const MAX_ID_LENGTH = 256;

/** Free text: `failNode(error)`, `reportNodeProgress(message)`; long enough for a stack trace's first lines. */
export const MAX_MESSAGE_LENGTH = 10_000;

/** Nesting of any JSON value that comes in or that a node produces: deeper values are refused (real data is rarely deeper than 20). */
export const MAX_JSON_DEPTH = 64;

/**
 * Nesting of a node's output: pass-through nodes (noop, merge) nest their input one level per
 * node, so a chain of them legitimately goes one level deeper per node; 10,000 covers the longest
 * chains we run, and PostgreSQL's jsonb parser and JSON.stringify both handle it.
 */
export const MAX_NODE_OUTPUT_DEPTH = 10_000;

/** Nesting of child executions (`workflow` and `map` nodes): a workflow that calls itself stops at this depth. */
export const MAX_SUBFLOW_DEPTH = 10;

/** A `map` node's items: each is a child execution and a row; 10,000 run with flat memory. */
export const MAX_MAP_ITEMS = 10_000;

/** A `map` node's `concurrency`: children running at once for one map attempt. */
export const MAX_MAP_CONCURRENCY = 100;

/** `Execution.children(first)`: one page of child executions, each a full read-model row with its nodes. */
export const MAX_CHILDREN_PAGE = 100;
