import type { NodeErrorCode } from '../domain/errors.js';

/** A failure with a catalogue code: the attempt records it as its errorCode, and the message starts with it ("CODE: ..."). */
export class CodedNodeError extends Error {
  override name = 'CodedNodeError';

  constructor(
    message: string,
    readonly code: NodeErrorCode | null,
    readonly retryable: boolean,
  ) {
    super(code === null ? message : `${code}: ${message}`);
  }
}

/** A failure that retrying cannot fix (bad configuration, a bad expression), with a code when it has one. */
export class PermanentNodeError extends CodedNodeError {
  override name = 'PermanentNodeError';

  constructor(message: string, code: NodeErrorCode | null = null) {
    super(message, code, false);
  }
}
