/**
 * Deadlines of one constant length, for work that starts in order: one timer for all of them, instead of a timer per
 * item (what ioredis' `commandTimeout` arms for every command: a Timeout object, a timer-list insert and an unenroll
 * on each L2 hit).
 *
 * With one length, deadlines fall in the order the items were added, so the queue is FIFO and only its head's
 * deadline needs a timer. An item that settles is not removed (that would cost a callback per item): it is dropped
 * when it reaches the head — at the next add, or when the timer fires. When the timer fires, every head item past its
 * deadline that has not settled expires, and the timer is re-armed for the next unexpired head. Each item thus
 * expires at its own deadline, as with a timer of its own, and the queue holds little more than the unsettled items
 * when they settle in order (replies on one connection do).
 *
 * Time is monotonic (`performance.now()` by default): a wall clock stepped back would break the FIFO order.
 */
/** Ring slots kept once the queue is empty: a ring grown past this by a burst is replaced by a small one. */
const RETAINED = 1024;

export class DeadlineQueue<T> {
  /** A ring of items and their deadlines (same capacity, a power of two): no allocation per add once it has grown. */
  #items: Array<T | undefined> = new Array<T | undefined>(16);
  #deadlines = new Float64Array(16);
  #head = 0;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #fire = (): void => this.#expire();

  constructor(
    /** The deadline of every item, in ms after its add. */
    private readonly ms: number,
    /** Whether an item has settled (its deadline then no longer matters). */
    private readonly settled: (item: T) => boolean,
    /** Called once for an item that reached its deadline unsettled. */
    private readonly expire: (item: T) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Items held: unsettled ones, and settled ones not yet dropped. */
  get size(): number {
    return this.#size;
  }

  /** Slots in the ring (tests: a burst's growth is given back once the queue drains). */
  get capacity(): number {
    return this.#items.length;
  }

  /** Whether the timer is armed (tests: none is left once the queue drains). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  add(item: T): void {
    while (this.#size > 0 && this.settled(this.#items[this.#head] as T)) this.#shift();
    if (this.#size === 0 && this.#items.length > RETAINED) this.#reset(); // a burst's ring is not kept for good
    if (this.#size === this.#items.length) this.#grow();
    const tail = (this.#head + this.#size) & (this.#items.length - 1);
    this.#items[tail] = item;
    this.#deadlines[tail] = this.now() + this.ms;
    this.#size++;
    if (this.#timer === undefined) this.#arm(this.ms);
  }

  /** Stops the timer and forgets every item: none of them expires. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#size > 0) this.#shift();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.now();
    while (this.#size > 0) {
      const item = this.#items[this.#head] as T;
      if (!this.settled(item)) {
        if (this.#deadlines[this.#head]! > now) break;
        this.#shift();
        this.expire(item); // may add: the ring is consistent before it runs
      } else this.#shift();
    }
    if (this.#timer === undefined && this.#size > 0) {
      // At least 1 ms: a timer that fires a little early (its clock is not ours) must not spin.
      this.#arm(Math.max(1, this.#deadlines[this.#head]! - now));
    }
  }

  #shift(): void {
    this.#items[this.#head] = undefined; // nothing settled stays reachable from here
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
  }

  #reset(): void {
    this.#items = new Array<T | undefined>(16);
    this.#deadlines = new Float64Array(16);
    this.#head = 0;
  }

  #grow(): void {
    const capacity = this.#items.length;
    const items = new Array<T | undefined>(capacity * 2);
    const deadlines = new Float64Array(capacity * 2);
    for (let i = 0; i < this.#size; i++) {
      const from = (this.#head + i) & (capacity - 1);
      items[i] = this.#items[from];
      deadlines[i] = this.#deadlines[from]!;
    }
    this.#items = items;
    this.#deadlines = deadlines;
    this.#head = 0;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#fire, ms);
    // The items' own work (a socket) keeps the process alive; their deadlines alone need not.
    this.#timer.unref?.();
  }
}
