import pg from 'pg';
import type { SqlClient, SqlExecutor } from './sqlClient.js';

export interface PostgresClient extends SqlClient {
  readonly kind: 'postgres';
  /** Shared with drizzle. */
  readonly pool: pg.Pool;
}

export interface PostgresClientOptions {
  /** Pool size; LISTEN uses one more, dedicated connection. */
  max?: number;
}

export function createPostgresClient(connectionString: string, options: PostgresClientOptions = {}): PostgresClient {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // An idle pooled connection that the server drops emits 'error' on the pool; without a
  // listener that would crash the process. The pool replaces the connection by itself.
  pool.on('error', () => {});
  // A checked-out client has no pool listener: one terminated while its caller holds it (between
  // the queries of a transaction, say) would emit an unhandled 'error'. The caller learns of the
  // loss from its next query, and the pool destroys a client that errored when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  const listener = new PgListener(connectionString);
  return {
    kind: 'postgres',
    pool,
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await pool.query(text, params)).rows as R[] }),
    transaction: (fn) => inTransaction(pool, fn),
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

async function inTransaction<T>(pool: pg.Pool, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const connection = await pool.connect();
  const tx: SqlExecutor = { query: async <R>(text: string, params?: unknown[]) => ({ rows: (await connection.query(text, params)).rows as R[] }) };
  try {
    await connection.query('BEGIN');
    const result = await fn(tx);
    await connection.query('COMMIT');
    connection.release();
    return result;
  } catch (error) {
    // A connection whose ROLLBACK fails is in an unknown state: destroy it, don't pool it.
    const broken = await connection.query('ROLLBACK').then(
      () => undefined,
      (e: unknown) => e,
    );
    connection.release(broken instanceof Error ? broken : undefined);
    throw error;
  }
}

type Callback = (payload: string) => void;

const MIN_RECONNECT_MS = 100;
const MAX_RECONNECT_MS = 5_000;

/**
 * One dedicated connection for every LISTEN of a client (pooled connections can't hold
 * LISTEN). It reconnects with backoff when dropped and re-LISTENs; notifications sent while it
 * was down are lost, so listeners must not rely on them alone.
 */
class PgListener {
  private readonly channels = new Map<string, Set<Callback>>();
  private connection: Promise<pg.Client> | null = null;
  /** The live connection, also while it is still connecting; drops of any other are stale. */
  private client: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = MIN_RECONNECT_MS;

  constructor(private readonly connectionString: string) {}

  async listen(channel: string, callback: Callback): Promise<() => Promise<void>> {
    const callbacks = this.channels.get(channel) ?? new Set<Callback>();
    const isNewChannel = callbacks.size === 0;
    callbacks.add(callback);
    this.channels.set(channel, callbacks);
    try {
      const client = await this.connect();
      if (isNewChannel) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      await this.remove(channel, callback);
      throw error;
    }
    return () => this.remove(channel, callback);
  }

  async close(): Promise<void> {
    this.channels.clear();
    await this.disconnect();
  }

  private async remove(channel: string, callback: Callback): Promise<void> {
    const callbacks = this.channels.get(channel);
    if (!callbacks?.delete(callback) || callbacks.size > 0) return;
    this.channels.delete(channel);
    if (this.channels.size === 0) return this.disconnect();
    const client = await this.connection?.catch(() => null);
    await client?.query(`UNLISTEN ${client.escapeIdentifier(channel)}`);
  }

  private connect(): Promise<pg.Client> {
    if (this.connection) return this.connection;
    const connection = this.open().catch((error: unknown) => {
      if (this.connection === connection) this.dropped();
      throw error;
    });
    this.connection = connection;
    return connection;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    this.client = client;
    client.on('notification', (message) => {
      for (const callback of this.channels.get(message.channel) ?? []) callback(message.payload ?? '');
    });
    const onDrop = () => {
      if (this.client === client) this.dropped();
    };
    client.on('error', onDrop);
    client.on('end', onDrop);
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.reconnectDelay = MIN_RECONNECT_MS;
    return client;
  }

  private dropped(): void {
    this.client = null;
    this.connection = null;
    if (this.channels.size === 0 || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch(() => {});
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_RECONNECT_MS);
  }

  private async disconnect(): Promise<void> {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    this.connection = null;
    await client?.end().catch(() => {});
  }
}
