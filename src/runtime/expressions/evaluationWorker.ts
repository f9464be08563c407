import { parentPort, workerData } from 'node:worker_threads';
import type { ExpressionBounds } from './expressionBounds.js';
import type { EvaluationRequest } from './evaluationMessages.js';
import { jsonataEvaluation } from './jsonataEvaluation.js';

/**
 * The entry of an evaluation worker: evaluates each batch it is sent, in order, one reply per
 * request. JSONata's own guardrails stop time and depth overruns here; the pool terminates a
 * worker that does not stop by itself (a backtracking regular expression) or runs out of memory.
 */
const evaluate = jsonataEvaluation(workerData as ExpressionBounds);

// evaluate answers every request, errors included, so the loop itself never rejects.
parentPort!.on('message', (batch: EvaluationRequest[]) => {
  void (async () => {
    for (const request of batch) parentPort!.postMessage(await evaluate(request));
  })();
});
// Loading this file is not part of any evaluation's time: the pool starts the clock from here.
parentPort!.postMessage('ready');
