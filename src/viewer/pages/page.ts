/** A page draws itself into `main` and returns what stops its live parts (subscriptions, polls). */
export type Page = (main: HTMLElement, param: string | undefined) => () => void;

/** An error shown in place of what failed: the message and the server's code. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return 'code' in error ? `${error.message} (${String(error.code)})` : error.message;
  return String(error);
}
