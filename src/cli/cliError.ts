/** A failure the CLI reports as one line, `error <CODE>: <message>`, with exit code 2: never a stack trace. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Exit codes: 0 the execution COMPLETED (or the command did its job), 1 it ended otherwise, 2 an error. */
export const EXIT = { ok: 0, notCompleted: 1, error: 2 } as const;
