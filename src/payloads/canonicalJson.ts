/**
 * The JSON text a payload is hashed and stored as: object keys sorted, no spaces, so that the
 * same value gives the same text (and hash) whatever order its keys were built in. Values are
 * checked storable JSON before they get here (jsonProblem), so nothing is dropped or refused.
 */
/** What JSON.stringify escapes in a string (lone surrogates are refused before values get here). */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const ESCAPED = /["\\\u0000-\u001f]/;

/**
 * The canonical JSON as UTF-8 bytes, what is hashed and stored. A string that JSON needs not
 * escape (a large text, base64) is written straight into its buffer: no JSON copy of it first,
 * so that storing a 20 MB value holds one copy of it besides the value.
 */
export function canonicalBytes(value: unknown): Buffer {
  if (typeof value !== 'string' || ESCAPED.test(value)) return Buffer.from(canonicalJson(value));
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(value) + 2);
  bytes[0] = 0x22;
  bytes.write(value, 1);
  bytes[bytes.length - 1] = 0x22;
  return bytes;
}

export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}
