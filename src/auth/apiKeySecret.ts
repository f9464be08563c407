import { createHash, randomBytes } from 'node:crypto';

/** What tells a key from a JWT at a glance, and a leaked key from random text (secret scanners). */
export const API_KEY_PREFIX = 'csk_';

/** A new key's secret: `csk_` + 32 random bytes, base64url (DESIGN section 8). */
export const newApiKeySecret = (): string => `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

/** All that is stored of a secret: a SHA-256 is enough for 256 random bits (no dictionary to try). */
export const hashApiKeySecret = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
