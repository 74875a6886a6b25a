import { describeValue } from "../kernel/config-object.js";
import { NotFoundError, ValidationError } from "../kernel/errors.js";
import type { L1Store } from "../l1/l1-store.js";
import { settledHit } from "../l1/settled-values.js";
import { readChannel } from "../observability/event-channels.js";
import { publishL1Hit } from "../observability/publish.js";
import { checkDocumentId } from "../repository/document-id.js";
import type { TransactionScope } from "../repository/document-repository.js";
import type { Doc, DocumentSpec } from "../spec/document-spec.js";
import type { FrozenDocument } from "./document-codec.js";
import type { DocumentStats } from "./document-stats.js";
import type { ReadOptions } from "./read-options.js";
import { checkReadOptions } from "./read-options.js";
import type { ReadThroughCoordinator } from "./read-through-coordinator.js";

export type { ReadOptions };

/** Reads of one document type (`ctx.document.query(spec)`). Every read is served from the nearest correct tier. */
export interface DocumentQuery<S extends DocumentSpec = DocumentSpec> {
  /** The document; NotFoundError when it does not exist. */
  get(id: string, options?: ReadOptions): Promise<Doc<S>>;
  /** The document, or `undefined`. */
  find(id: string, options?: ReadOptions): Promise<Doc<S> | undefined>;
  /** Documents in the order asked (duplicates allowed); NotFoundError listing every missing id. */
  getMany(ids: ReadonlyArray<string>, options?: ReadOptions): Promise<Array<Doc<S>>>;
  /** Like getMany, with `undefined` where a document does not exist. */
  findMany(ids: ReadonlyArray<string>, options?: ReadOptions): Promise<Array<Doc<S> | undefined>>;
  /** L1 only, synchronous: the cached document or `undefined`. For hot paths that cannot await. */
  peek(id: string): Doc<S> | undefined;
  /** Counters of this document on this runtime (shared by every context). */
  stats(): DocumentStats;
}

export class CachedDocumentQuery<S extends DocumentSpec> implements DocumentQuery<S> {
  /** The L1 store when reads here may use it (not inside a transaction): held directly, for the hit path. */
  readonly #l1: L1Store<FrozenDocument> | undefined;

  constructor(
    private readonly coordinator: ReadThroughCoordinator,
    private readonly scope: TransactionScope,
  ) {
    this.#l1 = scope.inTransaction ? undefined : coordinator.l1;
  }

  get(id: string, options?: ReadOptions): Promise<Doc<S>> {
    // The L1 hit path: no validation (only checked ids are ever stored) and no allocation (the store keeps each
    // entry's settled promise, see L1Store.getSettled). With options, they are checked first (an aborted signal
    // rejects even what L1 holds).
    const l1 = this.#l1;
    if (options === undefined && l1 !== undefined) {
      const hit = settledHit(l1, id);
      if (hit !== undefined) {
        if (readChannel.hasSubscribers) publishL1Hit(this.coordinator.document, id);
        return hit as Promise<Doc<S>>;
      }
      return this.#get(id, options, true);
    }
    return this.#get(id, options, false);
  }

  find(id: string, options?: ReadOptions): Promise<Doc<S> | undefined> {
    // The same L1 hit path as get().
    const l1 = this.#l1;
    if (options === undefined && l1 !== undefined) {
      const hit = settledHit(l1, id);
      if (hit !== undefined) {
        if (readChannel.hasSubscribers) publishL1Hit(this.coordinator.document, id);
        return hit as Promise<Doc<S>>;
      }
      return this.#find(id, options, true);
    }
    return this.#find(id, options, false);
  }

  async getMany(ids: ReadonlyArray<string>, options?: ReadOptions): Promise<Array<Doc<S>>> {
    const docs = await this.#findMany(ids, options);
    let missing: string[] | undefined;
    for (let i = 0; i < docs.length; i++) {
      if (docs[i] !== undefined) continue;
      const id = ids[i] as string;
      if (missing === undefined) missing = [id];
      else if (!missing.includes(id)) missing.push(id);
    }
    if (missing !== undefined) throw new NotFoundError(this.coordinator.document, missing);
    return docs as Array<Doc<S>>;
  }

  async findMany(ids: ReadonlyArray<string>, options?: ReadOptions): Promise<Array<Doc<S> | undefined>> {
    return await this.#findMany(ids, options);
  }

  peek(id: string): Doc<S> | undefined {
    // Inside a transaction reads go to Postgres only; the shared L1 could hold a version this transaction replaced.
    return this.#l1 === undefined ? undefined : (this.coordinator.peek(id) as Doc<S> | undefined);
  }

  stats(): DocumentStats {
    return this.coordinator.stats();
  }

  /**
   * findMany's work, not async itself: getMany awaits it directly rather than through findMany's own promise (one
   * promise and one turn of the microtask queue less per batch). Bad input throws here, inside the async caller.
   */
  #findMany(
    ids: ReadonlyArray<string>,
    options: ReadOptions | undefined,
  ): Promise<Array<Doc<S> | undefined>> | Array<Doc<S> | undefined> {
    const read = checkReadOptions(this.coordinator.document, options);
    if (!Array.isArray(ids)) {
      const message = `expected an array of ids, got ${describeValue(ids)}`;
      throw new ValidationError(this.coordinator.document, [{ path: ["ids"], message, code: "invalid_ids" }], "ids");
    }
    const keys = canonicalIds(this.coordinator.document, ids);
    if (keys.length === 0) return [];
    // In the order asked, repeats included (the coordinator reads each id once).
    return this.coordinator.getMany(this.scope, keys, read) as Promise<Array<Doc<S> | undefined>>;
  }

  async #find(id: string, options: ReadOptions | undefined, l1Missed: boolean): Promise<Doc<S> | undefined> {
    const read = checkReadOptions(this.coordinator.document, options);
    const key = checkDocumentId(this.coordinator.document, id);
    return (await this.coordinator.get(this.scope, key, read, l1Missed && key === id)) as Doc<S> | undefined;
  }

  /** `l1Missed`: `id` itself was just looked up in L1; the canonical key needs no second lookup unless it differs. */
  async #get(id: string, options: ReadOptions | undefined, l1Missed: boolean): Promise<Doc<S>> {
    const read = checkReadOptions(this.coordinator.document, options);
    const key = checkDocumentId(this.coordinator.document, id);
    const doc = await this.coordinator.get(this.scope, key, read, l1Missed && key === id);
    if (doc === undefined) throw new NotFoundError(this.coordinator.document, [id]);
    return doc as Doc<S>;
  }
}

/** The ids checked and in canonical form: `ids` itself when every one already is (the common case: no copy). */
function canonicalIds(document: string, ids: ReadonlyArray<unknown>): ReadonlyArray<string> {
  let keys: string[] | undefined;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const key = checkDocumentId(document, id, i);
    if (keys !== undefined) keys.push(key);
    else if (key !== id) {
      keys = ids.slice(0, i) as string[];
      keys.push(key);
    }
  }
  return keys ?? (ids as ReadonlyArray<string>);
}
