import { ConfigError, loadConfig } from '../config.js';
import { openCliConnections } from './cliConnections.js';
import { rebuildProjections } from './rebuild.js';

/**
 * `npm run projections:rebuild [-- --online]`: replays the event log into fresh read-model tables
 * of the database the server reads. `--online` builds them beside the live ones while a server
 * keeps serving (PostgreSQL), and swaps them in at once.
 */
async function main(): Promise<void> {
  const online = process.argv.slice(2).includes('--online');
  const { db, store, close } = await openCliConnections(loadConfig(), online ? 'Rebuilding online' : 'Rebuilding', { migrate: true });
  try {
    const began = Date.now();
    await rebuildProjections(db, store, { online });
    const { rows } = await db.query<{ workflows: number; executions: number }>(
      'SELECT (SELECT count(*)::int FROM workflow) AS workflows, (SELECT count(*)::int FROM flow_execution) AS executions',
    );
    console.log(`Done in ${Date.now() - began} ms: ${rows[0]!.workflows} workflows, ${rows[0]!.executions} executions.`);
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Rebuild failed:', error);
  process.exitCode = 1;
});
