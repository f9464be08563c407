import { DomainError } from '../domain/errors.js';

/** The roles a key or a JWT carries (DESIGN section 8), from the most to the least allowed. */
export const ROLES = ['ADMIN', 'EDITOR', 'OPERATOR', 'VIEWER', 'WORKER'] as const;
export type Role = (typeof ROLES)[number];

/** Who a request acts as: every resolver reads its tenant and actor from here. */
export interface Identity {
  tenantId: string;
  roles: readonly Role[];
  /** The API key's id; null for a JWT. */
  keyId: string | null;
  /** The key's name or the JWT's `sub`: the actor of the audit log and the userId of the events a request causes. */
  subject: string;
  /** Whether node inputs, outputs and trigger data are shown (always for roles above VIEWER). */
  canViewPayloads: boolean;
  /** The queues a WORKER key may claim from; null: every queue. */
  queues: readonly string[] | null;
  /** When the key or JWT (`exp`) stops working, ISO 8601; null: never. Open subscriptions end then. */
  expiresAt: string | null;
}

/** What a GraphQL context (HTTP or graphql-ws) holds once the request is authenticated. */
export interface IdentityContext {
  identity?: Identity;
}

/** The identity authentication put on the context; a context without one is a bug in the wiring, refused rather than guessed. */
export function identityOf(context: IdentityContext): Identity {
  if (!context.identity) throw new DomainError('UNAUTHENTICATED', 'no credential: send Authorization: Bearer <key or JWT>');
  return context.identity;
}
