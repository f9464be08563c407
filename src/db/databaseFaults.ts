/**
 * Faults of the database connection rather than of the work: the server went away, dropped or
 * terminated the connection (a failover, a DBA's pg_terminate_backend, idle_session_timeout), or
 * refused new ones for a moment. The same unit of work is worth trying again once the connection
 * is back; an error that is not one of these is the work's own and is not retried blindly.
 */

/**
 * SQLSTATE codes of a lost or refused connection; 57P05 and 25P03 are the server ending a session
 * idle past idle_session_timeout or idle_in_transaction_session_timeout (the 'error' event of the
 * connection carries them).
 */
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '25P03', '53300', '08000', '08001', '08003', '08004', '08006', '08007', '08P01']);
/** Node's socket errors when the peer is gone or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** pg reports a connection that ended under a query with these messages and no code. */
const LOST_CONNECTION_MESSAGES = [/connection terminated/i, /connection ended/i, /client has encountered a connection error/i, /not queryable/i];

export function isDatabaseFault(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_SQLSTATES.has(code) || SOCKET_CODES.has(code))) return true;
  return typeof message === 'string' && LOST_CONNECTION_MESSAGES.some((pattern) => pattern.test(message));
}
