/**
 * Many rows in one INSERT: each column travels as one text[] parameter and `unnest` turns them
 * back into rows, cast to the column's type. Text arrays are the one array type pg and PGlite
 * serialise alike, and one statement per table keeps a batch's round trips constant however
 * many rows it writes.
 */

export type SqlType = 'text' | 'integer' | 'bigint' | 'double precision' | 'timestamptz' | 'jsonb';

/** Column name (also the row's property) and its type. */
export type ColumnSpec<Row> = readonly [name: keyof Row & string, type: SqlType];

/** `INSERT INTO table (columns) SELECT ... FROM unnest(...)`, then `tail` (e.g. ON CONFLICT ...). */
export function insertRows<Row>(table: string, columns: ReadonlyArray<ColumnSpec<Row>>, rows: readonly Row[], tail = ''): { text: string; params: unknown[] } {
  const names = columns.map(([name]) => name).join(', ');
  const casts = columns.map(([, type], index) => `u.c${index}::${type}`).join(', ');
  const arrays = columns.map((_, index) => `$${index + 1}::text[]`).join(', ');
  const aliases = columns.map((_, index) => `c${index}`).join(', ');
  return {
    text: `INSERT INTO ${table} (${names}) SELECT ${casts} FROM unnest(${arrays}) AS u(${aliases}) ${tail}`,
    params: columns.map(([name, type]) => rows.map((row) => toText(type, row[name]))),
  };
}

/** `a = EXCLUDED.a, ...`: an upsert's SET that overwrites these columns. */
export function excludedSet<Row>(columns: ReadonlyArray<ColumnSpec<Row>>, keep: ReadonlyArray<keyof Row> = []): string {
  return columns
    .filter(([name]) => !keep.includes(name))
    .map(([name]) => `${name} = EXCLUDED.${name}`)
    .join(', ');
}

/** The text form PostgreSQL parses back into the column's type; null and undefined become NULL. */
function toText(type: SqlType, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- non-jsonb columns hold scalars (text, numbers, booleans, bigint)
  return type === 'jsonb' ? JSON.stringify(value) : String(value);
}
