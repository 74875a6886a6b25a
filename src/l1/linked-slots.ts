/**
 * Several circular doubly linked lists over the integer slots 0 … slots-1, in two Int32Arrays.
 * Each list has a sentinel node after the slots (list `l` is rooted at `slots + l`), so linking and
 * unlinking never branch on an empty list and nothing is allocated after construction.
 * A slot belongs to at most one list at a time; the caller tracks which.
 */
export class LinkedSlots {
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  readonly #slots: number;
  readonly #lists: number;

  constructor(slots: number, lists: number) {
    this.#slots = slots;
    this.#lists = lists;
    this.#next = new Int32Array(slots + lists);
    this.#prev = new Int32Array(slots + lists);
    this.clear();
  }

  /** The least recently appended slot of `list`, or -1 when it is empty. */
  first(list: number): number {
    const sentinel = this.#slots + list;
    const slot = this.#next[sentinel]!;
    return slot === sentinel ? -1 : slot;
  }

  /** The slot after `slot` in its list, or -1 at the end. */
  after(slot: number): number {
    const next = this.#next[slot]!;
    return next >= this.#slots ? -1 : next;
  }

  /** Appends a slot that is in no list. */
  append(list: number, slot: number): void {
    const sentinel = this.#slots + list;
    const last = this.#prev[sentinel]!;
    this.#next[last] = slot;
    this.#prev[slot] = last;
    this.#next[slot] = sentinel;
    this.#prev[sentinel] = slot;
  }

  /** Takes `slot` out of whichever list holds it. */
  unlink(slot: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    this.#next[prev] = next;
    this.#prev[next] = prev;
  }

  /** Moves `slot` (in any list) to the end of `list`. */
  moveToEnd(list: number, slot: number): void {
    // Already there (a key hit twice running): nothing to relink.
    if (this.#next[slot] === this.#slots + list) return;
    this.unlink(slot);
    this.append(list, slot);
  }

  /** Empties every list. */
  clear(): void {
    for (let l = 0; l < this.#lists; l++) {
      const sentinel = this.#slots + l;
      this.#next[sentinel] = sentinel;
      this.#prev[sentinel] = sentinel;
    }
  }
}
