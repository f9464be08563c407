import { ConfigError, loadConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { openCliConnections } from './cliConnections.js';
import { ReadModel } from './readModel.js';
import { replayCheck, type ReplayReport } from './replayCheck.js';

/**
 * `npm run replay -- <executionId>...`: re-folds each execution's events with the current code
 * and compares the result with the read model (see replayCheck). Exits with 1 when any differs
 * or is unknown, 2 without ids.
 */
async function main(ids: string[]): Promise<void> {
  if (ids.length === 0) {
    console.error('usage: npm run replay -- <executionId> [<executionId>...]');
    process.exitCode = 2;
    return;
  }
  const { db, store, close } = await openCliConnections(loadConfig(), 'Checking');
  try {
    const readModel = new ReadModel(db);
    for (const id of ids) if (!(await checkOne(() => replayCheck(store, readModel, id), id))) process.exitCode = 1;
  } finally {
    await close();
  }
}

/** Prints the outcome; true when the read model agrees with the events. */
async function checkOne(check: () => Promise<ReplayReport>, id: string): Promise<boolean> {
  try {
    const report = await check();
    console.log(describe(report));
    return report.consistent;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    console.error(`${id}: ${error.message}`);
    return false;
  }
}

function describe({ executionId, eventCount, readModelVersion, differences }: ReplayReport): string {
  const head = `${executionId}: ${eventCount} events`;
  if (readModelVersion === null) return `${head}, not in the read model (not projected yet, or removed by retention): nothing to compare`;
  if (differences.length === 0) return `${head}, read model at event ${readModelVersion}: consistent`;
  const lines = differences.map(({ path, expected, actual }) => `  ${path}: expected ${JSON.stringify(expected)}, read model has ${JSON.stringify(actual)}`);
  return [`${head}, read model at event ${readModelVersion}: ${differences.length} difference(s)`, ...lines].join('\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Replay check failed:', error);
  process.exitCode = 1;
});
