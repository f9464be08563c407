import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import type { ExecutionUpdate, Sink } from './executionUpdates.js';
import type { SharedFrames, SubscriptionDocument } from './sharedFrames.js';

/** How much a subscriber's socket may hold unread before its messages coalesce, and for how long before it is dropped. */
export interface SlowSubscriberLimits {
  /** Unsent bytes (ws bufferedAmount) above which no message is written to the socket. */
  maxBufferedBytes: number;
  /** How long a socket may stay above that before it is closed. */
  maxBehindMs: number;
}

export const DEFAULT_SLOW_SUBSCRIBER_LIMITS: SlowSubscriberLimits = { maxBufferedBytes: 1024 * 1024, maxBehindMs: 10_000 };

/** WebSocket 1013 "Try Again Later": the server sheds a client it cannot serve now; graphql-ws clients may reconnect. */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 1013;

/**
 * Up to this size a message goes out as one frame, its payload copied after the prefix: one
 * socket write instead of two (each ws send is a writev of its own), which is most of a frame's
 * cost for 5,000 sockets. A larger payload is sent as two fragments, so that it is not copied
 * per socket.
 */
const COPIED_PAYLOAD_BYTES = 16 * 1024;

/** Since when each socket has held more than its bound (one socket carries many subscriptions). */
const fullSince = new WeakMap<WebSocket, number>();

/**
 * One subscription's messages, written straight to its graphql-ws socket: a small prefix of its
 * own (the subscription id) and the payload shared with every subscriber of the same document
 * (SharedFrames), so that the payload is not serialised per socket. mercurius still owns the connection: its handshake, its
 * context (onConnect), `complete` and errors.
 */
export class SocketSink implements Sink {
  private readonly prefix: Buffer;
  private last: Buffer | null = null;

  constructor(
    private readonly socket: WebSocket,
    subscriptionId: string,
    private readonly document: SubscriptionDocument,
    private readonly frames: SharedFrames,
    private readonly limits: SlowSubscriberLimits,
    private readonly log: FastifyBaseLogger,
  ) {
    const type = socket.protocol === 'graphql-transport-ws' ? 'next' : 'data';
    this.prefix = Buffer.from(`{"type":${JSON.stringify(type)},"id":${JSON.stringify(subscriptionId)},"payload":`);
  }

  get selection() {
    return this.document.selection;
  }

  ready(): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    if (this.socket.bufferedAmount <= this.limits.maxBufferedBytes) {
      fullSince.delete(this.socket);
      return true;
    }
    if (!fullSince.has(this.socket)) fullSince.set(this.socket, Date.now());
    return false;
  }

  tooSlow(now: number): boolean {
    const since = fullSince.get(this.socket);
    return this.socket.readyState !== WebSocket.OPEN || (since !== undefined && now - since > this.limits.maxBehindMs);
  }

  /** A message the same as the last one this subscription got is left out (its selection did not change). */
  send(update: ExecutionUpdate): void {
    const payload = this.frames.payload(update, this.document);
    if (this.last && (this.last === payload || this.last.equals(payload))) return;
    this.last = payload;
    if (payload.length <= COPIED_PAYLOAD_BYTES) return this.socket.send(Buffer.concat([this.prefix, payload]), { binary: false });
    this.socket.send(this.prefix, { binary: false, fin: false });
    this.socket.send(payload, { binary: false, fin: true });
  }

  drop(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.log.warn({ bufferedBytes: this.socket.bufferedAmount, limits: this.limits }, 'subscription socket closed: the client did not read its messages');
    this.socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, 'subscriber too slow');
  }
}
