/** The messages between the expression pool and its workers. */
export interface EvaluationRequest {
  id: number;
  expression: string;
  context: unknown;
  /** Variables (`$name`) the expression may read besides its context: `$secrets`. */
  bindings?: Record<string, unknown>;
}

/**
 * One answer per request, in the order of the batch. A value travels as its JSON text (undefined
 * when it has none): that is how it is stored, and it makes sequences and functions plain data.
 */
export type EvaluationReply =
  /** Sent once, when the worker has loaded and listens. */
  'ready' | { id: number; ok: true; json: string | undefined } | { id: number; ok: false; limit: boolean; message: string };
