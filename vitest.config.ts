import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    // An upper bound, not an expectation: a fresh database and its migrations take far longer on a busy machine (PGlite above all).
    hookTimeout: 180_000,
    // Two cores: more workers than that only adds contention on PostgreSQL.
    maxWorkers: 2,
  },
});
