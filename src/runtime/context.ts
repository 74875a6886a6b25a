import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";
import type { CachePort } from "../l2/cache-port.js";
import { DEFAULT_MAX_VALUE_BYTES } from "../l2/kv-input.js";
import { SealedCachePort } from "../l2/sealed-cache-port.js";
import type { DocumentCommand } from "../read-through/document-command.js";
import { CachedDocumentCommand } from "../read-through/document-command.js";
import type { DocumentQuery } from "../read-through/document-query.js";
import { CachedDocumentQuery } from "../read-through/document-query.js";
import type { Database, TransactionScope } from "../repository/document-repository.js";
import type { CacheSpec, DocumentSpec } from "../spec/document-spec.js";
import type { DocumentRegistry } from "./document-registry.js";
import { RunningCachePort } from "./running-cache-port.js";

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
   * The raw key/value port of a routed cache, by cache spec or cache name. In a tenant's context its keys are that
   * tenant's (under the route's tenancy tier).
   */
  cache(target: CacheSpec | string): CachePort;
  /** The tenant of this context (`runtime.context({ tenant })`); undefined for a context without one. */
  readonly tenant: string | undefined;
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
    readonly tenant: string | undefined = undefined,
  ) {
    this.document = {
      query: <S extends DocumentSpec>(spec: S) => this.#query(spec),
      command: <S extends DocumentSpec>(spec: S) => this.#command(spec),
    };
  }

  cache(target: CacheSpec | string): CachePort {
    this.ensureRunning();
    const name = typeof target === "string" ? target : target?.name;
    if (typeof name !== "string") throw new ConfigurationError("cache", "expects a cache spec or a cache name");
    const namespace = this.registry.cacheNamespace(name);
    if (namespace === undefined) {
      throw new ConfigurationError(
        `caches.${name}`,
        "has no route: add it to redisModule({ caches }) or memoryCacheModule({ caches })",
      );
    }
    const ttlMs = typeof target === "string" ? DEFAULT_KV_TTL_MS : target.ttlMs;
    const tenant = this.tenant;
    const place = tenant === undefined ? namespace : (namespace.forTenant?.(tenant) ?? namespace);
    let port = place.kv(ttlMs, place === namespace ? tenant : undefined);
    const sealer = place.sealer;
    if (sealer !== undefined) {
      const max = place.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
      port = new SealedCachePort(port, sealer, `k|${place.namespace}|${tenant ?? ""}`, max);
    }
    // Checked at every call, like the document ports: after stop() it rejects with STOPPED, not a closed socket.
    return new RunningCachePort(port, this.ensureRunning);
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
      fn(new RuntimeContext(this.registry, { scope, database }, this.ensureRunning, this.tenant)),
    );
  }

  #query<S extends DocumentSpec>(spec: S): DocumentQuery<S> {
    let port = this.#queries.get(spec);
    if (port === undefined) {
      this.ensureRunning();
      const document = this.registry.resolve(spec, this.tenant);
      port = new CachedDocumentQuery<S>(document.coordinator, this.#scopeFor(document.database, spec));
      this.#queries.set(spec, port);
    }
    return port as DocumentQuery<S>;
  }

  #command<S extends DocumentSpec>(spec: S): DocumentCommand<S> {
    let port = this.#commands.get(spec);
    if (port === undefined) {
      this.ensureRunning();
      const document = this.registry.resolve(spec, this.tenant);
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

const DEFAULT_KV_TTL_MS = 5 * 60_000;
