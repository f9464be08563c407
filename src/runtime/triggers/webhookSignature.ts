import { createHmac, timingSafeEqual } from 'node:crypto';

/** Carries the HMAC-SHA256 of the raw request body, in hex, optionally prefixed `sha256=`. */
export const SIGNATURE_HEADER = 'x-cascade-signature';

const SIGNATURE = /^(?:sha256=)?([0-9a-f]{64})$/i;

export function signBody(secret: string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Constant-time comparison, so that response times reveal nothing about the expected signature. */
export function isValidSignature(secret: string, rawBody: Buffer, signature: string | undefined): boolean {
  const hex = signature === undefined ? undefined : SIGNATURE.exec(signature.trim())?.[1];
  if (hex === undefined) return false;
  return timingSafeEqual(Buffer.from(hex, 'hex'), Buffer.from(signBody(secret, rawBody), 'hex'));
}
