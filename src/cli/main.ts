#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { createApiClient } from './client.js';
import { CliError, EXIT } from './cliError.js';
import { events } from './events.js';
import { exportGraph } from './exportGraph.js';
import { show } from './show.js';
import { start } from './start.js';
import { watch } from './watch.js';

/** `cascade`: starts, watches and shows executions through the server's GraphQL API (CASCADE_URL, CASCADE_API_KEY). */
function program(setExit: (code: number) => void): Command {
  const client = () => createApiClient(process.env);
  const cli = new Command('cascade')
    .description('Start, watch and inspect Cascade executions (CASCADE_URL, default http://localhost:4000; CASCADE_API_KEY)')
    .exitOverride()
    .showHelpAfterError();
  cli
    .command('start <workflowId> <triggerNodeId>')
    .description('start a trigger; prints the execution id')
    .option('--data <json>', 'trigger data, as JSON')
    .option('--watch', 'follow the execution until it ends (exit code as for watch)')
    .action(async (workflowId: string, triggerNodeId: string, options: { data?: string; watch?: boolean }) => setExit(await start(client(), workflowId, triggerNodeId, options)));
  cli
    .command('watch <executionId>')
    .description('a live progress bar until the execution ends; exit code 0 for COMPLETED, 1 for any other end')
    .action(async (executionId: string) => setExit(await watch(client(), executionId)));
  cli
    .command('show <executionId>')
    .description('a table of the execution’s nodes: status, attempt, duration')
    .action((executionId: string) => show(client(), executionId));
  cli
    .command('events <executionId>')
    .description('the execution’s event log, one event a line')
    .action((executionId: string) => events(client(), executionId));
  cli
    .command('export <workflowId>')
    .description('a picture of the workflow: every node and connection')
    .requiredOption('--format <format>', 'mermaid or dot')
    .action((workflowId: string, options: { format: string }) => exportGraph(client(), workflowId, options.format));
  return cli;
}

async function main(): Promise<number> {
  let code: number = EXIT.ok;
  try {
    await program((exit) => (code = exit)).parseAsync(process.argv);
    return code;
  } catch (error) {
    // commander has printed its own message (unknown command, missing argument) or the help.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    if (error instanceof CliError) process.stderr.write(`error ${error.code}: ${error.message}\n`);
    else process.stderr.write(`error INTERNAL_ERROR: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.error;
  }
}

process.exitCode = await main();
