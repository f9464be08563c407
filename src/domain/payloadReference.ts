/**
 * What an event holds in place of a large payload (DESIGN section 10): `{ "$cascadePayload":
 * "<sha256 of its canonical JSON>", "bytes": <its size> }`. The key is reserved: user data that
 * holds it anywhere is refused where it comes in (jsonProblem), so a reference is never user data.
 */
export const PAYLOAD_REFERENCE_KEY = '$cascadePayload';

export interface PayloadReference {
  [PAYLOAD_REFERENCE_KEY]: string;
  bytes: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const isPayloadReference = (value: unknown): value is PayloadReference => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const hash = (value as Record<string, unknown>)[PAYLOAD_REFERENCE_KEY];
  return typeof hash === 'string' && SHA256_HEX.test(hash) && typeof (value as Record<string, unknown>).bytes === 'number';
};

export const payloadReference = (hash: string, bytes: number): PayloadReference => ({ [PAYLOAD_REFERENCE_KEY]: hash, bytes });
