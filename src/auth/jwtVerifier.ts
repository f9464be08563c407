import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { DEFAULT_TENANT } from '../domain/tenants.js';
import { ROLES, type Identity, type Role } from './identity.js';

/** AUTH_JWKS_URL or AUTH_JWT_SECRET (one of them), AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE. */
export interface JwtSettings {
  jwksUrl: string | null;
  secret: string | null;
  issuer: string | null;
  audience: string | null;
}

const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/**
 * JWTs verified with `jose`: signature (a JWKS or a shared HMAC secret), expiry, issuer and
 * audience. The claims `sub` (the actor), `tenant` (default: `default`) and `roles` make the
 * identity; a token without `sub` or with no known role is refused.
 */
export function jwtVerifier(settings: JwtSettings): ((token: string) => Promise<Identity | null>) | null {
  const key: Uint8Array | JWTVerifyGetKey | null = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl))
    : settings.secret
      ? new TextEncoder().encode(settings.secret)
      : null;
  if (key === null) return null;
  const options = { ...(settings.issuer ? { issuer: settings.issuer } : {}), ...(settings.audience ? { audience: settings.audience } : {}) };
  return async (token) => {
    try {
      const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
      const roles = Array.isArray(payload.roles) ? payload.roles.filter(isRole) : [];
      if (typeof payload.sub !== 'string' || payload.sub === '' || roles.length === 0) return null;
      const tenantId = typeof payload.tenant === 'string' && payload.tenant !== '' ? payload.tenant : DEFAULT_TENANT;
      const expiresAt = typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null;
      const queues = Array.isArray(payload.queues) ? payload.queues.filter((each): each is string => typeof each === 'string') : null;
      return {
        tenantId,
        roles,
        keyId: null,
        subject: payload.sub,
        canViewPayloads: payload.canViewPayloads === true || roles.some((role) => role !== 'VIEWER'),
        queues,
        expiresAt,
      };
    } catch {
      return null;
    }
  };
}
