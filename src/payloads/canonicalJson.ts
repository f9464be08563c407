/**
 * The JSON text a payload is hashed and stored as: object keys sorted, no spaces, so that the
 * same value gives the same text (and hash) whatever order its keys were built in. Values are
 * checked storable JSON before they get here (jsonProblem), so nothing is dropped or refused.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}
