import type { L1Store } from "../l1/l1-store.js";
import type { KeyValueStore, StoredEntry } from "../l2/key-value-store.js";

/**
 * An id that no key can be (keys refuse control characters): the push router hands it over for a write to the
 * namespace's generation or a tag version, which may concern any entry, so every copy goes.
 */
export const FLUSH_ALL_KEYS = "\u0000all";

/** What KvL1.fastHit returns when it has no fresh copy. */
export const NO_HIT: unique symbol = Symbol("no L1 hit");

/** An L1 copy with its decoded value, once a fast hit decoded it. */
type MemoEntry = StoredEntry & { memo?: { readonly value: unknown } };

function deepFreeze(value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * The opt-in L1 of one key/value cache: copies of live store entries, dropped by this runtime's writes at once and
 * by every other writer's through push invalidation (the router calls invalidateLocal/flushLocal/setL1Open, as for
 * documents). A read fills L1 only if no invalidation arrived while it was in flight (a single sequence number:
 * coarse, and enough to keep an overtaken reply out), and only while push is armed or off by choice.
 */
export class KvL1 {
  #open = true;
  #seq = 0;

  constructor(
    readonly store: L1Store<StoredEntry>,
    /** The cache's name: what push invalidation events (observability) report as their `document`. */
    readonly document = "",
  ) {}

  /**
   * The hot path of `getOrSet` without options: the decoded value of a fresh L1 copy, or NO_HIT. Synchronous and
   * allocation-free on a hit after the first (the decoded value is kept on the copy, frozen: it is shared).
   */
  fastHit(key: string, now: number, decode: (entry: StoredEntry) => { value: unknown } | undefined): unknown {
    if (!this.#open) return NO_HIT;
    const entry = this.store.get(key) as MemoEntry | undefined;
    if (entry === undefined || (entry.freshUntil !== 0 && now >= entry.freshUntil)) return NO_HIT;
    if (entry.memo === undefined) {
      const decoded = decode(entry);
      if (decoded === undefined) return NO_HIT;
      entry.memo = { value: deepFreeze(decoded.value) };
    }
    return entry.memo.value;
  }

  read(
    keys: ReadonlyArray<string>,
    backend: KeyValueStore,
  ): Promise<{ entries: Array<StoredEntry | undefined>; fromL1: number }> {
    return this.readVia(keys, (missing) => backend.read(missing));
  }

  /** As `read`, the copies L1 lacks read by `fetch` (e.g. a leased read). */
  async readVia(
    keys: ReadonlyArray<string>,
    fetch: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<StoredEntry | undefined>>,
  ): Promise<{ entries: Array<StoredEntry | undefined>; fromL1: number }> {
    if (!this.#open) return { entries: [...(await fetch(keys))], fromL1: 0 };
    const entries = new Array<StoredEntry | undefined>(keys.length);
    let missing: number[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const hit = this.store.get(keys[i] as string);
      if (hit !== undefined) entries[i] = hit;
      else {
        missing ??= [];
        missing.push(i);
      }
    }
    if (missing === undefined) return { entries, fromL1: keys.length };
    const seq = this.#seq;
    const found = await fetch(missing.map((i) => keys[i] as string));
    const fill = this.#open && seq === this.#seq;
    missing.forEach((index, j) => {
      const entry = found[j];
      entries[index] = entry;
      if (fill && entry !== undefined) this.store.set(keys[index] as string, { ...entry });
    });
    return { entries, fromL1: keys.length - missing.length };
  }

  drop(keys: ReadonlyArray<string>): void {
    this.#seq++;
    for (const key of keys) this.store.invalidate(key);
  }

  flush(): void {
    this.#seq++;
    this.store.clear();
  }

  /** Push: one key changed somewhere (or, for FLUSH_ALL_KEYS, a generation or tag version). */
  invalidateLocal(key: string): void {
    if (key === FLUSH_ALL_KEYS) this.flush();
    else this.drop([key]);
  }

  flushLocal(): void {
    this.flush();
  }

  /** Closed while push is disarmed: reads bypass L1 and fill nothing. */
  setL1Open(open: boolean): void {
    this.#open = open;
    this.flush();
  }

  get size(): number {
    return this.store.size;
  }
}
