/**
 * The small surface the rest of Cascade needs from PostgreSQL, so that the same SQL runs on a
 * server (pg) and embedded (PGlite).
 */

export interface SqlExecutor {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are the caller's to type; untyped callers (tests, one-off reads) get any
  query<R = any>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface SqlClient extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Commits when fn resolves, rolls back when it throws. Use only `tx` inside fn. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; returns an unlisten function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
