/**
 * At most `limit` tasks at once; the rest queue in order. Bounds the Postgres reads of waiters whose lease holder
 * never filled (fill-lease.ts), so a dead holder under a stampede costs the database a few reads per process, not
 * one per waiting id.
 */
export class OriginCap {
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next === undefined) this.#running--;
      else next(); // the slot passes on: #running unchanged
    }
  }
}
