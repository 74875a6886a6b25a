import type { FrozenDocument } from "./document-codec.js";

/**
 * The documents of one batch read, beside its ids: `values[i]` is the document of `ids[i]` (undefined: none). An
 * array rather than a Map: the warm path stores each document at its id's index, with no hashing and no table grown
 * from empty to 100 entries on every batch (a Map per batch, and the lookups to copy it out, were ~10 µs of a warm
 * getMany(100)). Lookups by id — joiners of the batch, the miss and lease paths — use an index built on first use.
 */
export class BatchDocs {
  readonly values: Array<FrozenDocument | undefined>;
  #index: Map<string, number> | undefined;

  constructor(readonly ids: ReadonlyArray<string>) {
    this.values = new Array<FrozenDocument | undefined>(ids.length).fill(undefined); // no holes: callers get copies
  }

  get(id: string): FrozenDocument | undefined {
    const i = this.#indexOf(id);
    return i === undefined ? undefined : this.values[i];
  }

  /** Sets the document of `id`, which must be one of `ids`. */
  set(id: string, doc: FrozenDocument | undefined): void {
    const i = this.#indexOf(id);
    if (i === undefined) throw new Error(`BatchDocs: ${id} is not an id of this batch`);
    this.values[i] = doc;
  }

  #indexOf(id: string): number | undefined {
    let index = this.#index;
    if (index === undefined) {
      index = new Map();
      for (let i = 0; i < this.ids.length; i++) index.set(this.ids[i]!, i); // ids are unique
      this.#index = index;
    }
    return index.get(id);
  }
}
