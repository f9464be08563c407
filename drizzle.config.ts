import { defineConfig } from 'drizzle-kit';

/** `npm run db:generate` turns changes of the read-model schema into a migration under drizzle/. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/projections/schema.ts',
  out: './drizzle',
});
