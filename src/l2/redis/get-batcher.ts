/**
 * Coalesces the single-key reads issued in one tick into one multi-key read.
 *
 * Under concurrency most of the cost of an L2 hit is per command, not per key: a command object, a timer, and a
 * socket write (a system call) each. A read that finds no other read of this batcher in flight is sent at once (a
 * lone or sequential reader pays nothing); reads that start while others are in flight — typically the
 * continuations of a burst of replies — are queued and flushed together on `process.nextTick`, which runs once the
 * current microtask burst is done.
 */
export class GetBatcher<R = string | null, V = string> {
  #keys: string[] = [];
  #waiters: Array<Waiter<R>> = [];
  #scheduled = false;
  /** Multi-key reads sent and not yet answered. */
  #inFlight = 0;

  /**
   * `fetch` reads many keys in one go (one value or null per key, in order). `one`, when given, reads a lone key: a
   * read that finds nothing in flight and nothing queued is sent through it directly, without the queue's promise,
   * waiter and arrays (the common case of an L2 hit that is not part of a burst).
   *
   * `decode` turns each value into what `get` answers (it must not throw); `loneError`, when given, turns a lone
   * read's failure into an answer (or rethrows). Both run in the reaction that also ends the lone read's bookkeeping:
   * on an L2 hit the caller's decode is not one more promise and microtask behind the batcher's.
   */
  constructor(
    private readonly fetch: (keys: string[]) => Promise<ReadonlyArray<V | null>>,
    private readonly one?: (key: string) => Promise<V | null>,
    private readonly decode: (value: V | null) => R = identity as (value: V | null) => R,
    private readonly loneError?: (error: unknown) => R,
  ) {}

  get(key: string): Promise<R> {
    if (this.one !== undefined && this.#inFlight === 0 && this.#keys.length === 0) {
      this.#inFlight++;
      let call: Promise<V | null>;
      try {
        call = this.one(key);
      } catch (error) {
        call = Promise.reject(error);
      }
      return call.then(this.#loneValue, this.#loneFailure);
    }
    return new Promise<R>((resolve, reject) => {
      this.#keys.push(key);
      this.#waiters.push({ resolve, reject });
      if (this.#inFlight === 0) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        process.nextTick(this.#flush);
      }
    });
  }

  readonly #loneValue = (value: V | null): R => {
    this.#inFlight--;
    return this.decode(value);
  };

  readonly #loneFailure = (error: unknown): R => {
    this.#inFlight--;
    if (this.loneError === undefined) throw error;
    return this.loneError(error);
  };

  readonly #flush = (): void => {
    const keys = this.#keys;
    const waiters = this.#waiters;
    this.#keys = [];
    this.#waiters = [];
    this.#scheduled = false;
    if (keys.length === 0) return;
    this.#inFlight++;
    let call: Promise<ReadonlyArray<V | null>>;
    try {
      call = this.fetch(keys);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (values) => {
        this.#inFlight--;
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(this.decode(values[i] ?? null));
      },
      (error: unknown) => {
        this.#inFlight--;
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  };
}

interface Waiter<R> {
  resolve(value: R): void;
  reject(error: unknown): void;
}

function identity<T>(value: T): T {
  return value;
}
