import { runShape } from './scenarios.js';
import { createBenchEnv, fanOutIn } from './support.js';

/**
 * Run as its own process so that the peak resident set belongs to the 10,000-node execution alone
 * (engine, projections and database client, as in a server); prints one JSON line.
 */
const env = await createBenchEnv();
const seconds = await runShape(env, fanOutIn(10_000));
await env.close();
console.log(JSON.stringify({ seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
