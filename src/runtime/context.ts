import type { Cache } from "../cache/cache.js";
import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";
import type { DocumentCommand } from "../read-through/document-command.js";
import { CachedDocumentCommand } from "../read-through/document-command.js";
import type { DocumentQuery } from "../read-through/document-query.js";
import { CachedDocumentQuery } from "../read-through/document-query.js";
import type { Database, TransactionScope } from "../repository/document-repository.js";
import type { CacheSpec, DocumentSpec } from "../spec/document-spec.js";
import type { CacheRegistry } from "./cache-registry.js";
import type { DocumentRegistry } from "./document-registry.js";

/** A unit of application work: the ports it reads and writes through. Cheap to create; ports are memoized. */
export interface Context {
  /** The document ports. ConfigurationError when the spec's document has no table route. */
  readonly document: {
    /** Reads of the document `spec` declares; inside a transaction they go to Postgres only. */
    query<S extends DocumentSpec>(spec: S): DocumentQuery<S>;
    /** Writes of the document `spec` declares; inside a transaction they reach the caches after commit. */
    command<S extends DocumentSpec>(spec: S): DocumentCommand<S>;
  };
  /**
   * The cache API of a routed cache, by cache spec (its ttl is then the default) or cache name (default ttl 5 minutes):
   * the same cache as `runtime.cache(name)`. ConfigurationError when no cache module routes the name.
   */
  cache(target: CacheSpec | string): Cache;
  /**
   * Runs `fn` in one database transaction. Writes inside reach the caches only after commit; reads inside go to
   * Postgres and never fill caches; a rollback changes no cache. A nested call is a savepoint: its failure rolls back only its own work.
   */
  transaction<T>(fn: (tx: Context) => Promise<T>): Promise<T>;
}

export class RuntimeContext implements Context {
  readonly #queries = new Map<DocumentSpec, DocumentQuery>();
  readonly #commands = new Map<DocumentSpec, DocumentCommand>();
  readonly document: Context["document"];

  constructor(
    private readonly registry: DocumentRegistry,
    private readonly tx: { readonly scope: TransactionScope; readonly database: Database } | undefined,
    private readonly ensureRunning: () => void,
    private readonly caches: CacheRegistry,
  ) {
    this.document = {
      query: <S extends DocumentSpec>(spec: S) => this.#query(spec),
      command: <S extends DocumentSpec>(spec: S) => this.#command(spec),
    };
  }

  cache(target: CacheSpec | string): Cache {
    this.ensureRunning();
    return this.caches.view(target, this.ensureRunning);
  }

  async transaction<T>(fn: (tx: Context) => Promise<T>): Promise<T> {
    this.ensureRunning();
    // Before BEGIN: a non-function would otherwise surface as a raw TypeError from inside the transaction.
    if (typeof fn !== "function") {
      throw new ConfigurationError("transaction", `expects a function (tx) => Promise (got ${describeValue(fn)})`);
    }
    // Nested: the database turns it into a savepoint of the outer transaction.
    // A transaction spans one database: the first postgresModule's (the only one, in most apps).
    const database = this.tx?.database ?? this.registry.primaryDatabase();
    return database.transaction((scope) =>
      fn(new RuntimeContext(this.registry, { scope, database }, this.ensureRunning, this.caches)),
    );
  }

  #query<S extends DocumentSpec>(spec: S): DocumentQuery<S> {
    let port = this.#queries.get(spec);
    if (port === undefined) {
      this.ensureRunning();
      const document = this.registry.resolve(spec);
      port = new CachedDocumentQuery<S>(document.coordinator, this.#scopeFor(document.database, spec));
      this.#queries.set(spec, port);
    }
    return port as DocumentQuery<S>;
  }

  #command<S extends DocumentSpec>(spec: S): DocumentCommand<S> {
    let port = this.#commands.get(spec);
    if (port === undefined) {
      this.ensureRunning();
      const document = this.registry.resolve(spec);
      port = new CachedDocumentCommand<S>(
        document.coordinator,
        document.repository,
        document.schemas,
        this.#scopeFor(document.database, spec),
      );
      this.#commands.set(spec, port);
    }
    return port as DocumentCommand<S>;
  }

  #scopeFor(database: Database, spec: DocumentSpec): TransactionScope {
    if (this.tx === undefined) return database.autocommit;
    if (this.tx.database !== database) {
      throw new ConfigurationError(
        `documents.${spec.name}`,
        "lives in another database than this transaction; a transaction spans one postgresModule",
      );
    }
    return this.tx.scope;
  }
}
