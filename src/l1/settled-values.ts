import type { L1Store } from "./l1-store.js";

/**
 * The values of a store's slots as promises already settled to them (L1Store.getSettled), kept from a slot's second
 * such lookup until its value changes, so an async L1 hit of a hot entry allocates nothing. The first lookup only
 * marks the slot (`null`) and hands out a promise of its own: an entry read once — a cache's long tail — then holds
 * no promise (~57 bytes an entry, 10% of a small document's). The array itself is made on the first lookup ever:
 * stores read only synchronously (the key/value L1) pay nothing.
 */
export class SettledValues<V> {
  /** Per slot: its kept promise, `null` once looked up once, `undefined` before. */
  #promises: Array<Promise<V> | null | undefined> | undefined;

  constructor(private readonly slots: number) {}

  /** A promise settled to `value`, the value of `slot`: the kept one from the slot's second lookup on. */
  of(slot: number, value: V): Promise<V> {
    let promises = this.#promises;
    if (promises === undefined) {
      promises = new Array<Promise<V> | null | undefined>(this.slots).fill(undefined);
      this.#promises = promises;
    }
    const kept = promises[slot];
    if (kept != null) return kept;
    const promise = Promise.resolve(value);
    promises[slot] = kept === null ? promise : null;
    return promise;
  }

  /** `slot`'s value changed or went: its promise goes too. */
  drop(slot: number): void {
    if (this.#promises !== undefined) this.#promises[slot] = undefined;
  }

  /** Every slot's value went. */
  clear(): void {
    this.#promises?.fill(undefined);
  }
}

/** An async L1 hit: the store's settled promise (getSettled), or — a custom store without it — a new one. */
export function settledHit<V>(store: L1Store<V>, key: string): Promise<V> | undefined {
  if (store.getSettled !== undefined) return store.getSettled(key);
  const value = store.get(key);
  return value === undefined ? undefined : Promise.resolve(value);
}
