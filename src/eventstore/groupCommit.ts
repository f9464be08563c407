import { isDatabaseFault } from '../db/databaseFaults.js';

/**
 * Group commit across streams: while `maxInFlight` writes are on their way to the database, the
 * requests that arrive wait and then go together, as one write. Under load, many appenders
 * share one transaction and one WAL flush; at rest, a request is written at once, alone.
 * Each request still settles on its own, after the write that holds it.
 */
export interface GroupCommitOptions<Request, Result> {
  /** Writes the requests in one go; answers each of them in order (a result, or its own error). */
  write(requests: Request[]): Promise<Array<Result | Error>>;
  /** Writes on their way at once; more requests wait to form the next group. */
  maxInFlight: number;
  /** Weight of a request (e.g. its events), to keep a group's size bounded. */
  weigh(request: Request): number;
  /** Largest weight of one group; a single heavier request goes alone. */
  maxWeight: number;
}

interface Waiting<Request, Result> {
  request: Request;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

export class GroupCommit<Request, Result> {
  private readonly queue: Array<Waiting<Request, Result>> = [];
  private inFlight = 0;

  constructor(private readonly options: GroupCommitOptions<Request, Result>) {}

  submit(request: Request): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const group = this.nextGroup();
      this.inFlight += 1;
      void this.writeGroup(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private nextGroup(): Array<Waiting<Request, Result>> {
    let weight = 0;
    let size = 0;
    while (size < this.queue.length) {
      weight += this.options.weigh(this.queue[size]!.request);
      if (size > 0 && weight > this.options.maxWeight) break;
      size += 1;
    }
    return this.queue.splice(0, size);
  }

  private async writeGroup(group: Array<Waiting<Request, Result>>): Promise<void> {
    try {
      const results = await this.options.write(group.map((waiting) => waiting.request));
      group.forEach((waiting, index) => settle(waiting, results[index]!));
    } catch (error) {
      // A lost connection is no request's fault: each caller hears of it (and may try again),
      // rather than every request being sent again alone to a database that is away.
      if (group.length === 1 || isDatabaseFault(error)) return group.forEach((waiting) => waiting.reject(error));
      // One bad request (say, data the database refuses) must not fail the others: each is
      // written again alone, and only the bad one fails.
      await Promise.all(group.map((waiting) => this.writeGroup([waiting])));
    }
  }
}

function settle<Result>(waiting: Waiting<unknown, Result>, result: Result | Error): void {
  if (result instanceof Error) waiting.reject(result);
  else waiting.resolve(result);
}
