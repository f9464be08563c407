import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isStale } from '../../scripts/buildIfStale.mjs';

/** A checkout holding these files, each dated (seconds since the epoch). */
function checkout(files: Record<string, number>): string {
  const root = mkdtempSync(join(tmpdir(), 'cascade-build-'));
  for (const [path, at] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), at, at);
  }
  // Directories get the oldest date: only what a test dates later counts as a change.
  for (const dir of ['src', 'src/api', 'dist']) utimesSync(join(root, dir), 1, 1);
  return root;
}

describe('npm start builds first when dist/ is stale', () => {
  const roots: string[] = [];
  const make = (files: Record<string, number>) => roots[roots.push(checkout(files)) - 1]!;
  afterEach(() => roots.splice(0).forEach((root) => rmSync(root, { recursive: true, force: true })));

  const SOURCES = { 'src/api/server.ts': 100, 'package.json': 100, 'package-lock.json': 100 };

  it('is stale without dist/main.js, fresh once built after every input', () => {
    expect(isStale(make({ ...SOURCES, 'dist/api/server.js': 200 }))).toBe(true);
    expect(isStale(make({ ...SOURCES, 'dist/main.js': 200 }))).toBe(false);
  });

  it('is stale when a source file, package.json or the lock file changed after the build', () => {
    expect(isStale(make({ ...SOURCES, 'src/api/server.ts': 300, 'dist/main.js': 200 }))).toBe(true);
    expect(isStale(make({ ...SOURCES, 'package.json': 300, 'dist/main.js': 200 }))).toBe(true);
    expect(isStale(make({ ...SOURCES, 'package-lock.json': 300, 'dist/main.js': 200 }))).toBe(true);
  });

  it('is stale when a source file was deleted after the build (its directory changed)', () => {
    const root = make({ ...SOURCES, 'src/api/old.ts': 100, 'dist/main.js': 200 });
    rmSync(join(root, 'src/api/old.ts'));
    utimesSync(join(root, 'src/api'), 300, 300);
    expect(isStale(root)).toBe(true);
  });
});
