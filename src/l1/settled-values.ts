import type { L1Store } from "./l1-store.js";

/**
 * The values of a store's slots as promises already settled to them (L1Store.getSettled): made on a slot's first
 * such lookup and kept until the slot's value changes, so an async L1 hit allocates nothing after the first. The
 * array itself is made on the first lookup ever: stores read only synchronously (the key/value L1) pay nothing.
 */
export class SettledValues<V> {
  #promises: Array<Promise<V> | undefined> | undefined;

  constructor(private readonly slots: number) {}

  /** The settled promise of `slot`, whose value is `value`. */
  of(slot: number, value: V): Promise<V> {
    let promises = this.#promises;
    if (promises === undefined) {
      promises = new Array<Promise<V> | undefined>(this.slots).fill(undefined);
      this.#promises = promises;
    }
    let promise = promises[slot];
    if (promise === undefined) {
      promise = Promise.resolve(value);
      promises[slot] = promise;
    }
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
