/**
 * A read in flight as an id's cell holds it: a one-field box, emptied when the read settles. Cells are long-lived
 * (old-generation) memory, as was the Map's backing table before them, and an old object that points at young ones
 * keeps them alive until the next full GC; through a box it keeps only the box, not the read's promise and the
 * documents it resolved to (pointing at those promoted every batch's documents out of the young generation: GC was
 * ~15% of a warm getMany).
 */
class Flight<V> {
  constructor(public load: Promise<V | undefined> | undefined) {}
}

/** What a batch read resolves to: each of its ids' value (a Map, or the coordinator's BatchDocs). */
export interface BatchValues<V> {
  get(id: string): V | undefined;
}

/**
 * A getMany batch in flight (boxed like Flight): joiners look their id up in the batch's result. While it is being
 * assembled (SingleFlight.openBatch, then joinOrAdd) `values` is undefined and callers only hand it back.
 */
export class BatchFlight<V> {
  /** The cells of the ids this batch reads, in order: unregistered through these, with no lookup. */
  readonly cells: Array<Cell<V>> = [];
  constructor(public values: Promise<BatchValues<V>> | undefined) {}
}

/** A batch read being assembled (SingleFlight.openBatch). */
export type OpenBatch<V> = BatchFlight<V>;

/**
 * An id's place in the table: the read in flight for it, or none. A cell outlives its reads, so an id read again
 * reuses it with a field write instead of a Map store to register and a lookup and a store to unregister; a batch
 * keeps its ids' cells and unregisters them without a lookup. A warm getMany(100) read 1.024–1.030× faster than with
 * the Map entries (bench/l2-layers.ts --against, 2026-11-30; with no single flight at all, the unsafe bound, 1.055×).
 */
class Cell<V> {
  flight: Flight<V> | BatchFlight<V> | undefined = undefined;
}

/** Settled ids remembered for settledSince (a getManyOrSet batch of more counts as "unknown": one more read). */
const RECENT = 256;

/** Idle cells kept before a sweep (each about 100 bytes with its Map entry and key), as ChurnMap does. */
const KEPT = 1024;

/**
 * What a read reports while it runs: `until`, the fill it leaves behind after answering (see PendingFills). The read
 * stays joinable until that settles too, so a read of the same id in this process joins it rather than missing an L2
 * entry still on its way.
 */
export interface FlightTail {
  until?: Promise<unknown>;
}

/**
 * Single-flight reads, per id (invariant 5: one fetch per key per process). A read in flight — of one id, or of a
 * batch holding it — is joined by every later read of that id until it settles (and its fill, if it left one: see
 * FlightTail) or is detached. A write or an invalidation detaches the id, so no read that starts after it joins a
 * fetch that may predate it.
 */
export class SingleFlight<V> {
  /**
   * Each id's cell, holding its read in flight or none (idle). Idle cells stay for reuse until more than KEPT are
   * idle and more are idle than in use; one sweep then deletes them all (see ChurnMap, which this table replaces).
   */
  readonly #cells = new Map<string, Cell<V>>();
  #idle = 0;
  #sweeps = 0;
  /**
   * How many ids' flights have settled, and the last RECENT of those ids (a ring): see settledSince. Only kept when
   * asked for (`remember`): the document reads never ask, and their batches would write it 100 times each for nothing.
   */
  #settles = 0;
  readonly #recent: Array<string | undefined> | undefined;

  constructor(options?: { readonly remember?: boolean }) {
    this.#recent = options?.remember === true ? new Array<string | undefined>(RECENT) : undefined;
  }

  /** Entries in the table, in use or idle, and the sweeps of idle ones so far (tests bound both). */
  get entries(): number {
    return this.#cells.size;
  }

  get sweeps(): number {
    return this.#sweeps;
  }

  /** Idle entries: ids whose reads have all ended (tests check the count against the table). */
  get idle(): number {
    return this.#idle;
  }

  /** A point in the settle history, taken before a store read; see settledSince. */
  mark(): number {
    return this.#settles;
  }

  /**
   * Whether a flight of `id` may have settled since `mark`: a store read that began before then and missed may have
   * raced that flight's fill, and reads again rather than lead a second load (stores whose reads are not ordered
   * with writes — a Postgres pool — let a whole flight start and end during one read). Also true when more than
   * RECENT settles happened since (unknown, so the caller reads again: one more store read, never a lost load).
   */
  settledSince(id: string, mark: number): boolean {
    const recent = this.#recent;
    if (recent === undefined) throw new Error("SingleFlight: settledSince needs { remember: true }");
    const since = this.#settles - mark;
    if (since === 0) return false;
    if (since > RECENT) return true;
    for (let seq = mark; seq < this.#settles; seq++) if (recent[seq % RECENT] === id) return true;
    return false;
  }

  #settled(id: string): void {
    const recent = this.#recent;
    if (recent === undefined) return;
    recent[this.#settles % RECENT] = id;
    this.#settles++;
  }

  /** The result of the read of `id` in flight, or undefined when none is. */
  join(id: string): Promise<V | undefined> | undefined {
    const flight = this.#cells.get(id)?.flight;
    if (flight === undefined) return undefined;
    if (flight instanceof Flight) return flight.load;
    return flight.values?.then((values) => values.get(id));
  }

  /**
   * Registers the read of one id; it unregisters itself when it settles — after `tail.until` when the read left a
   * fill behind — unless detached or replaced by then.
   */
  lead(id: string, load: Promise<V | undefined>, tail?: FlightTail): void {
    const flight = new Flight(load);
    const cell = this.#register(id, flight);
    const settle = () => {
      this.#release(cell, flight);
      flight.load = undefined; // whether settled, detached or replaced: nobody finds this box from here on
      this.#settled(id);
      this.#maybeSweep();
    };
    const settled = tail === undefined ? settle : () => afterTail(tail, settle);
    load.then(settled, settled);
  }

  /** Registers one batch read for all of `ids` (unique); each id unregisters when the batch (and its tail) settles. */
  leadBatch(ids: ReadonlyArray<string>, load: Promise<BatchValues<V>>, tail?: FlightTail): void {
    const flight = new BatchFlight<V>(load);
    for (const id of ids) flight.cells.push(this.#register(id, flight));
    this.#settleBatch(flight, ids, load, tail);
  }

  /**
   * A batch read about to start, for joinOrAdd and startBatch: the getMany path, which looks each id up once to
   * join a read in flight or to claim the id for its batch (rather than a lookup, then a registration).
   */
  openBatch(): OpenBatch<V> {
    return new BatchFlight<V>(undefined);
  }

  /**
   * The read of `id` in flight to wait for; otherwise `id` joins `batch` (answer `"lead"`: the caller loads it), or
   * was already in it (`"again"`: a repeated id, loaded once). Between the first `"lead"` and startBatch, joiners
   * find no read (there is none yet): call startBatch before anything else can run.
   */
  joinOrAdd(id: string, batch: OpenBatch<V>): Promise<V | undefined> | "lead" | "again" {
    let cell = this.#cells.get(id);
    if (cell === undefined) {
      cell = new Cell<V>();
      this.#cells.set(id, cell);
    } else {
      const flight = cell.flight;
      if (flight === batch) return "again";
      if (flight !== undefined) {
        const joined = flight instanceof Flight ? flight.load : flight.values?.then((values) => values.get(id));
        if (joined !== undefined) return joined;
        // An empty box: a batch whose assembly threw before it started (a custom L1 store's get, say). Nothing is in
        // flight: this batch takes the id over, as lead() would.
      } else this.#idle--;
    }
    cell.flight = batch;
    batch.cells.push(cell);
    return "lead";
  }

  /** Starts `batch` with its load of `ids` (those joinOrAdd answered `"lead"` for); they unregister as in leadBatch. */
  startBatch(batch: OpenBatch<V>, ids: ReadonlyArray<string>, load: Promise<BatchValues<V>>, tail?: FlightTail): void {
    batch.values = load;
    this.#settleBatch(batch, ids, load, tail);
  }

  #settleBatch(
    flight: BatchFlight<V>,
    ids: ReadonlyArray<string>,
    load: Promise<BatchValues<V>>,
    tail: FlightTail | undefined,
  ): void {
    const settle = () => {
      const cells = flight.cells;
      for (let i = 0; i < cells.length; i++) this.#release(cells[i]!, flight);
      if (this.#recent !== undefined) for (const id of ids) this.#settled(id);
      flight.values = undefined;
      this.#maybeSweep();
    };
    const settled = tail === undefined ? settle : () => afterTail(tail, settle);
    load.then(settled, settled);
  }

  /** Whether `load` is still the flight registered for `id` (not settled, detached or replaced). */
  isLeading(id: string, load: Promise<V | undefined>): boolean {
    const flight = this.#cells.get(id)?.flight;
    return flight instanceof Flight && flight.load === load;
  }

  /** Later reads of `id` start their own fetch; the one in flight finishes for those already waiting on it. */
  detach(id: string): void {
    const cell = this.#cells.get(id);
    if (cell === undefined || cell.flight === undefined) return;
    cell.flight = undefined;
    this.#idle++;
    this.#maybeSweep();
  }

  /** Makes `flight` the read of `id` (replacing whatever was there), in its cell, made and kept if it has none. */
  #register(id: string, flight: Flight<V> | BatchFlight<V>): Cell<V> {
    let cell = this.#cells.get(id);
    if (cell === undefined) {
      cell = new Cell<V>();
      this.#cells.set(id, cell);
    } else if (cell.flight === undefined) this.#idle--;
    cell.flight = flight;
    return cell;
  }

  /** `flight` has ended: its id's cell goes idle, unless another read took it since. */
  #release(cell: Cell<V>, flight: Flight<V> | BatchFlight<V>): void {
    if (cell.flight !== flight) return;
    cell.flight = undefined;
    this.#idle++;
  }

  /** One sweep of every idle cell once more than KEPT are idle and more are idle than in use. */
  #maybeSweep(): void {
    if (this.#idle <= KEPT || this.#idle <= this.#cells.size - this.#idle) return;
    for (const [id, cell] of this.#cells) if (cell.flight === undefined) this.#cells.delete(id);
    this.#idle = 0;
    this.#sweeps++;
  }
}

function afterTail(tail: FlightTail, settle: () => void): void {
  if (tail.until === undefined) settle();
  else tail.until.then(settle, settle);
}
