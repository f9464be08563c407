/**
 * Expressions that may try the event loop's own thread first: what can run long in one native
 * call (a regular expression, a range, a sort, $distinct, a padded string, $eval of anything) or recurse
 * (a function definition) is left out, by its text, so that a false alarm only costs a trip to
 * a worker. Everything else is stopped by JSONata's own checks between steps within the budget.
 */
const WORKER_ONLY = /\/|\.\.|\bfunction\b|λ|\$(eval|pad|sort|shuffle|distinct|match|replace|split|contains|join|formatBase|formatNumber|formatInteger|parseInteger)\b/;

export const mayRunInThread = (expression: string): boolean => !WORKER_ONLY.test(expression);

/** How long an expression may hold the event loop before it goes to a worker to run under its full bounds. */
export const IN_THREAD_BUDGET_MS = 5;
