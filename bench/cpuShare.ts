import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

/**
 * Where the machine's CPU went while subscribers watched: the server's process, the client
 * processes beside it on the same cores, and the rest (PostgreSQL, the bench itself). Read from
 * /proc (Linux), so a client's cost is not taken for the server's and a saturated machine shows.
 */
export interface CpuShare {
  wallSeconds: number;
  cores: number;
  /** CPU seconds the whole machine was busy over the window (all processes). */
  machineSeconds: number;
  serverSeconds: number;
  /** Time the server's main thread (its event loop) was ready to run but waited for a core (/proc/<pid>/schedstat). */
  serverWaitSeconds: number;
  clientSeconds: number;
  /** Frames the subscribers received over the window (their first snapshots came before it). */
  frames: number;
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat, counted after the command's closing parenthesis). */
function processSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Seconds the process's main thread spent runnable but not running: waiting in a run queue for a core. */
function runQueueSeconds(pid: number): number {
  const [, waitNs = '0'] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
  return Number(waitNs) / 1e9;
}

/** Busy CPU seconds of the whole machine so far: every state of /proc/stat's first line but idle and iowait. */
function machineSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

interface CpuReading {
  at: number;
  machine: number;
  server: number;
  serverWait: number;
}

function reading(serverPid: number): CpuReading {
  return {
    at: performance.now(),
    machine: machineSeconds(),
    server: processSeconds(serverPid),
    serverWait: runQueueSeconds(serverPid),
  };
}

/** Starts a window over the server's process; `end` closes it with the frames and the CPU the clients counted themselves. */
export function cpuWindow(serverPid: number): { end(frames?: number, clientSeconds?: number): CpuShare } {
  const start = reading(serverPid);
  return {
    end(frames = 0, clientSeconds = 0) {
      const stop = reading(serverPid);
      return {
        wallSeconds: (stop.at - start.at) / 1000,
        cores: availableParallelism(),
        machineSeconds: stop.machine - start.machine,
        serverSeconds: stop.server - start.server,
        serverWaitSeconds: stop.serverWait - start.serverWait,
        clientSeconds,
        frames,
      };
    },
  };
}

/** "server 41 % / clients 52 % / rest 5 % of 2 cores (98 % busy); ...": each part's share of what the cores could give over the window. */
export function describeShare(share: CpuShare): string {
  const capacity = share.wallSeconds * share.cores;
  const percent = (seconds: number) => `${Math.round((seconds / capacity) * 100)} %`;
  const rest = share.machineSeconds - share.serverSeconds - share.clientSeconds;
  const waited = Math.round((share.serverWaitSeconds / share.wallSeconds) * 100);
  return `server ${percent(share.serverSeconds)} / clients ${percent(share.clientSeconds)} / rest ${percent(Math.max(0, rest))} of ${share.cores} cores (${percent(share.machineSeconds)} busy); server's loop waited for a core ${waited} % of the time`;
}
