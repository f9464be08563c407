import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_ERROR_CODES } from '../../src/errors/catalogue.js';

/** The codes in the first column of the "Error codes" table of a Markdown file. */
function documentedCodes(file: URL): Set<string> {
  const text = readFileSync(file, 'utf8');
  const section = text.slice(text.indexOf('### Error codes'));
  const table = section.slice(0, section.search(/\n#+ /) === -1 ? undefined : section.search(/\n#+ /));
  return new Set([...table.matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]!));
}

describe('the error catalogue', () => {
  it("has every code in the README's Error codes table", () => {
    const readme = documentedCodes(new URL('../../README.md', import.meta.url));
    expect(readme.size).toBeGreaterThan(0);
    expect(ALL_ERROR_CODES.filter((code) => !readme.has(code))).toEqual([]);
  });
});
