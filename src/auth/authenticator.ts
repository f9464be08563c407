import { API_KEY_PREFIX } from './apiKeySecret.js';
import type { ApiKey, ApiKeyStore } from './apiKeyStore.js';
import type { Identity } from './identity.js';

/** How long a looked-up key answers from memory: revocation here clears it at once; another process' revocation within this. */
const CACHE_MS = 30_000;
/** Cached keys at most; past it the cache starts afresh (a few hundred bytes each). */
const CACHE_ENTRIES = 10_000;

interface Cached {
  key: ApiKey;
  identity: Identity;
  until: number;
}

/** Roles above VIEWER always see payloads; a VIEWER only with canViewPayloads. */
export const identityOfKey = (key: ApiKey): Identity => ({
  tenantId: key.tenantId,
  roles: key.roles,
  keyId: key.id,
  subject: key.name,
  canViewPayloads: key.canViewPayloads || key.roles.some((role) => role !== 'VIEWER'),
  queues: key.queues,
  expiresAt: key.expiresAt,
});

const usable = (key: ApiKey, now: number): boolean => key.revokedAt === null && (key.expiresAt === null || Date.parse(key.expiresAt) > now);

/**
 * Turns an `Authorization` value into an identity, or null (UNAUTHENTICATED). Keys are looked up
 * once per CACHE_MS, so that an authenticated request costs a map lookup; a key revoked through
 * this process is dropped from the cache and its listeners (open subscriptions) told at once.
 */
export class Authenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly revokedListeners = new Map<string, Set<() => void>>();

  /** Tenants a JWT named that exist: tenants are never deleted, so one look each is enough. */
  private readonly knownTenants = new Set<string>();

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly verifyJwt: ((token: string) => Promise<Identity | null>) | null,
    private readonly tenantExists: (tenantId: string) => Promise<boolean>,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(authorization: unknown): Promise<Identity | null> {
    if (typeof authorization !== 'string') return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const token = match?.[1];
    if (!token) return null;
    if (token.startsWith(API_KEY_PREFIX) || this.verifyJwt === null) return this.ofKey(token);
    return this.ofJwt(this.verifyJwt, token);
  }

  /**
   * A JWT is signed by an identity provider that knows nothing of our tenants: one naming a tenant
   * that does not exist is refused, rather than acting in an empty tenant of its own.
   */
  private async ofJwt(verify: (token: string) => Promise<Identity | null>, token: string): Promise<Identity | null> {
    const identity = await verify(token);
    if (identity === null || this.knownTenants.has(identity.tenantId)) return identity;
    if (!(await this.tenantExists(identity.tenantId))) return null;
    if (this.knownTenants.size >= CACHE_ENTRIES) this.knownTenants.clear();
    this.knownTenants.add(identity.tenantId);
    return identity;
  }

  /** Forgets the key at once, and ends what was authenticated with it. */
  revoked(keyId: string): void {
    for (const [secret, cached] of this.cache) if (cached.key.id === keyId) this.cache.delete(secret);
    const listeners = this.revokedListeners.get(keyId);
    this.revokedListeners.delete(keyId);
    for (const listener of listeners ?? []) listener();
  }

  /** Calls `listener` once when the key is revoked or expires; the returned function stops listening. */
  onRevoked(identity: Identity, listener: () => void): () => void {
    const { keyId, expiresAt } = identity;
    const untilExpiry = expiresAt === null ? null : Date.parse(expiresAt) - this.now();
    // Past setTimeout's range (about 24 days) the key is looked at again by the next request instead.
    const timer = untilExpiry !== null && untilExpiry < 2 ** 31 - 1 ? setTimeout(listener, Math.max(0, untilExpiry)) : null;
    timer?.unref();
    // A JWT cannot be revoked here: only its expiry ends what it opened.
    const listeners = keyId === null ? new Set<() => void>() : (this.revokedListeners.get(keyId) ?? new Set());
    if (keyId !== null) this.revokedListeners.set(keyId, listeners);
    listeners.add(listener);
    return () => {
      if (timer) clearTimeout(timer);
      listeners.delete(listener);
      if (keyId !== null && listeners.size === 0 && this.revokedListeners.get(keyId) === listeners) this.revokedListeners.delete(keyId);
    };
  }

  private async ofKey(secret: string): Promise<Identity | null> {
    const now = this.now();
    const cached = this.cache.get(secret);
    if (cached && cached.until > now) return usable(cached.key, now) ? cached.identity : null;
    const key = await this.keys.findBySecret(secret);
    if (key === null) return null;
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    const identity = identityOfKey(key);
    this.cache.set(secret, { key, identity, until: now + CACHE_MS });
    return usable(key, now) ? identity : null;
  }
}
