/** A name made safe to splice into SQL where a parameter can't go (schemas, tables). */
export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;
