import type { FastifyBaseLogger } from 'fastify';
import type { GraphQLResolveInfo } from 'graphql';
import type WebSocket from 'ws';
import { SharedFrames, SubscriptionDocument, type FormatResult } from './sharedFrames.js';
import { DEFAULT_SLOW_SUBSCRIBER_LIMITS, SocketSink, type SlowSubscriberLimits } from './socketSink.js';

/** What mercurius gives a subscription's resolvers: its socket (from `subscription.context`) and its id. */
export interface SubscriptionContext {
  socket: WebSocket;
  id: string;
}

/**
 * Decides which subscribers may share a message: everything that changes what a subscriber may
 * see of it: the caller's tenant and whether it may view payloads (canViewPayloads), read from
 * the context onConnect built.
 */
export type Visibility = (context: SubscriptionContext) => string;

export interface LiveSinksOptions {
  format: FormatResult;
  limits?: Partial<SlowSubscriberLimits>;
  visibility?: Visibility;
  log: FastifyBaseLogger;
}

/** Makes the sink of each subscription; the messages of all of them share one SharedFrames. */
export class LiveSinks {
  readonly frames: SharedFrames;
  private readonly limits: SlowSubscriberLimits;
  private readonly visibility: Visibility;

  constructor(private readonly options: LiveSinksOptions) {
    this.frames = new SharedFrames(options.format);
    this.limits = { ...DEFAULT_SLOW_SUBSCRIBER_LIMITS, ...options.limits };
    this.visibility = options.visibility ?? (() => '');
  }

  sinkFor(context: SubscriptionContext, info: GraphQLResolveInfo): SocketSink {
    const document = new SubscriptionDocument(info, context, this.visibility(context));
    return new SocketSink(context.socket, context.id, document, this.frames, this.limits, this.options.log);
  }
}
