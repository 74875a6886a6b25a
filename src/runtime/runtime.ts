import type { Cache } from "../cache/cache.js";
import type { CacheCore } from "../cache/cache-core.js";
import { FLUSH_ALL_KEYS } from "../cache/kv-l1.js";
import type { ChangeCaptureStats } from "../change-capture/capture-stats.js";
import type { ChangeCapture } from "../change-capture/change-capture.js";
import type { CoordinationStores } from "../coordination/cache-coordination.js";
import type { InvalidationChannel } from "../invalidation/invalidation-channel.js";
import { InvalidationRouter } from "../invalidation/invalidation-router.js";
import type { PushStats } from "../invalidation/push-stats.js";
import { PUSH_OFF } from "../invalidation/push-stats.js";
import { checkMethods } from "../kernel/check-options.js";
import type { Clock } from "../kernel/clock.js";
import { systemClock } from "../kernel/clock.js";
import { expectConfigObject, rejectUnknownKeys } from "../kernel/config-object.js";
import { ConfigurationError, RuntimeStateError } from "../kernel/errors.js";
import type { Logger } from "../kernel/logger.js";
import { consoleLogger } from "../kernel/logger.js";
import type { CacheBackend, CacheNamespace } from "../l2/cache-backend.js";
import { kvPrefix, parseEntryKey, parseKvKey } from "../l2/key-layout.js";
import { HealthBoard } from "../observability/health-monitor.js";
import type { HealthReport } from "../observability/health-report.js";
import { BackgroundRefresher } from "../read-through/background-refresher.js";
import type { DocumentStats } from "../read-through/document-stats.js";
import { PendingFills } from "../read-through/pending-fills.js";
import type { Database, TableRef } from "../repository/document-repository.js";
import type { SealingStats } from "../sealing/sealing-stats.js";
import type { CacheSpec, DocumentSpec } from "../spec/document-spec.js";
import { checkTenantId } from "../tenancy/tenant-id.js";
import { CacheRegistry } from "./cache-registry.js";
import { CaptureTargets, checkCapturedListed } from "./capture-targets.js";
import type { Context } from "./context.js";
import { RuntimeContext } from "./context.js";
import type { DocumentRoute, DocumentRuntime } from "./document-registry.js";
import { DocumentRegistry } from "./document-registry.js";
import type { CacheModule, DocumentsModule, ModuleEnv, RuntimeModule } from "./module.js";
import type { TableRoute } from "./route-conflicts.js";
import { checkListedDocuments, checkModuleRoutes, checkTableRoutes, openedTableRoutes } from "./route-conflicts.js";

/** Options of createRuntime. Checked at once: an unknown or bad one throws ConfigurationError naming it. */
export interface RuntimeOptions {
  /**
   * `postgresModule(...)` for documents and any cache modules (`redisModule`, `memoryCacheModule`); a runtime of
   * cache modules only serves the cache API (`runtime.cache(name)`).
   */
  readonly modules: ReadonlyArray<RuntimeModule>;
  /**
   * Where absorbed failures are reported.
   * @default consoleLogger (warnings and errors to stderr)
   */
  readonly logger?: Logger;
  /**
   * Time and randomness; inject for deterministic tests.
   * @default systemClock (Date.now and Math.random)
   */
  readonly clock?: Clock;
  /**
   * Most XFetch background refreshes in flight at once, across documents; excess elections are dropped
   * (counted in `refresh.dropped`). A positive integer.
   * @default 64
   */
  readonly refreshConcurrency?: number;
  /**
   * The documents this application uses. Optional: a document is otherwise wired on first use. Listed here,
   * each is wired by `start()`, which then fails fast — and opens nothing — when one has no table route.
   */
  readonly documents?: ReadonlyArray<DocumentSpec>;
}

/** Options of `runtime.context()`. */
export interface ContextOptions {
  /**
   * The tenant this unit of work acts for: 1-64 of `A-Z a-z 0-9 _ -`. Required by tenant-scoped documents
   * (TenantRequiredError without it); ignored by the others.
   */
  readonly tenant?: string;
}

/** What `runtime.stats()` returns. */
export interface RuntimeStats {
  /** The runtime's lifecycle state when the snapshot was taken. */
  readonly state: RuntimeState;
  /** Per document used so far on this runtime; `cache` is the name of its cache route, if it has one. */
  readonly documents: Readonly<Record<string, DocumentStats & { readonly cache: string | undefined }>>;
  /**
   * Per routed cache name: the `backend` kind that serves it (e.g. "redis", "memory"), its key `namespace`, and
   * whether `push` invalidation keeps its L1 honest.
   */
  readonly caches: Readonly<
    Record<
      string,
      {
        readonly backend: string;
        readonly namespace: string;
        readonly push: PushStats;
        /** Encryption and compression counters, when the route seals its values. */
        readonly sealing?: SealingStats;
      }
    >
  >;
  /** Per document with `changeCapture`: the capture of its database (mode, relay state, lag, depth, counters). */
  readonly changeCapture: Readonly<Record<string, ChangeCaptureStats>>;
}

/** The lifecycle: created → starting → started → stopping → stopped; only "started" serves calls. */
export type RuntimeState = "created" | "starting" | "started" | "stopping" | "stopped";

/** An application's stratacache: its modules, documents and caches, started and stopped as one. */
export interface Runtime {
  /**
   * Connects, migrates the tables it owns, opens caches. Fails fast when Postgres is unreachable. Once only: a second
   * call, or a call after stop(), rejects with RuntimeStateError; so does a start() that stop() interrupted.
   */
  start(): Promise<void>;
  /**
   * Closes what the runtime opened (never a pool or client passed in): connections, the push channel, timers.
   * Idempotent (every call returns the same promise) and safe at any time: during start() it waits for the step in
   * progress, then start() closes everything and rejects. Resolves with the runtime "stopped" and nothing left open.
   */
  stop(): Promise<void>;
  /**
   * A new unit of work over this runtime's ports. RuntimeStateError unless the runtime is started. With `tenant`,
   * tenant-scoped documents and key/value ports work on that tenant's data only (see README "Multi-tenant").
   */
  context(options?: ContextOptions): Context;
  /**
   * The cache API of a routed cache (the same cache as `ctx.cache(name)`), usable outside any context; works on a
   * runtime without documents. RuntimeStateError unless started; ConfigurationError for an unrouted name.
   */
  cache(target: CacheSpec | string, options?: ContextOptions): Cache;
  /** `runtime.context().transaction(fn)`. */
  transaction<T>(fn: (tx: Context) => Promise<T>): Promise<T>;
  /** A snapshot of every counter: per document, and per cache route. */
  stats(): RuntimeStats;
  /**
   * Per dependency (each Postgres, each cache backend, each push channel): `ok` | `degraded` | `down`, since when,
   * and why — the same reason the warn/info log lines carry. `ready` is what a readiness probe should return.
   */
  health(): HealthReport;
  /**
   * Resolves once the L2 fills that reads left running have landed (or failed). A miss answers as soon as Postgres
   * does and its fenced fill finishes behind it (README "Misses"); await this where the next step needs L2 filled —
   * a test that inspects Redis or the fill counters, a handoff to another replica. Never rejects.
   */
  settled(): Promise<void>;
  /** Where the runtime is in its lifecycle. */
  readonly state: RuntimeState;
}

const RUNTIME_OPTION_KEYS: ReadonlyArray<keyof RuntimeOptions> = [
  "modules",
  "logger",
  "clock",
  "refreshConcurrency",
  "documents",
];
const LOGGER_METHODS: ReadonlyArray<keyof Logger> = ["debug", "info", "warn", "error"];
const CLOCK_METHODS: ReadonlyArray<keyof Clock> = ["now", "random"];
/** The L1 of a document without one (attached to push only so its lease waiters wake): nothing to drop. */
const NO_L1 = { size: 0 } as const;

/**
 * Builds a runtime from modules: at least one `postgresModule`, and cache modules (`redisModule`,
 * `memoryCacheModule`) for the documents that declare a cache. Only checks and wires: nothing connects until
 * `start()`. Throws ConfigurationError for a bad option or conflicting routes (two documents sharing a table or a
 * cache route).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { createRuntime, defineDocument, postgresModule, redisModule } from "stratacache";
 *
 * const products = defineDocument({
 *   name: "products",
 *   fields: z.object({ name: z.string(), price: z.number().int() }),
 *   cache: { ttl: "5m" },
 * });
 * const runtime = createRuntime({
 *   modules: [
 *     postgresModule({ url: "postgres://postgres@127.0.0.1:5432/app", documents: { products: {} } }),
 *     redisModule({ url: "redis://127.0.0.1:6379", caches: { products: { namespace: "app:products" } } }),
 *   ],
 *   documents: [products],
 * });
 * await runtime.start(); // connects, creates the missing table
 * const ctx = runtime.context();
 * const created = await ctx.document.command(products).create({ name: "Widget", price: 10 });
 * await ctx.document.query(products).get(created.id); // Postgres, then filled into Redis
 * await runtime.stop();
 * ```
 */
export function createRuntime(options: RuntimeOptions): Runtime {
  const config = expectConfigObject(options, "createRuntime", "{ modules: [postgresModule(…)] }");
  rejectUnknownKeys(config, RUNTIME_OPTION_KEYS, "");
  if (!Array.isArray(options.modules)) {
    throw new ConfigurationError("modules", "must be an array of modules");
  }
  const logger =
    options.logger === undefined ? consoleLogger : checkMethods<Logger>(options.logger, LOGGER_METHODS, "logger");
  const clock = options.clock === undefined ? systemClock : checkMethods<Clock>(options.clock, CLOCK_METHODS, "clock");
  const documentModules: DocumentsModule[] = [];
  const cacheModules: CacheModule[] = [];
  options.modules.forEach((module, i) => {
    if (module?.kind === "documents") documentModules.push(module);
    else if (module?.kind === "cache") cacheModules.push(module);
    else throw new ConfigurationError(`modules[${i}]`, "is not a stratacache module");
  });
  if (documentModules.length === 0 && cacheModules.length === 0) {
    throw new ConfigurationError("modules", "must include a postgresModule or a cache module");
  }
  checkUnique(
    documentModules.flatMap((m) => [...m.routes.keys()]),
    "documents",
  );
  checkUnique(
    cacheModules.flatMap((m) => m.names),
    "caches",
  );
  checkModuleRoutes(documentModules, cacheModules);
  const refreshConcurrency = options.refreshConcurrency ?? 64;
  if (!Number.isSafeInteger(refreshConcurrency) || refreshConcurrency < 1) {
    throw new ConfigurationError("refreshConcurrency", "must be a positive integer");
  }
  const documents = options.documents ?? [];
  if (!Array.isArray(documents))
    throw new ConfigurationError("documents", "must be an array of defineDocument() specs");
  documents.forEach((spec: unknown, i) => {
    const candidate = spec as Partial<DocumentSpec> | null;
    if (typeof candidate !== "object" || candidate === null || typeof candidate.fingerprint !== "string") {
      throw new ConfigurationError(`documents[${i}]`, "is not a defineDocument() spec");
    }
  });
  if (documents.length > 0 && documentModules.length === 0) {
    throw new ConfigurationError("documents", "are listed, but no postgresModule routes documents");
  }
  checkListedDocuments(
    documents,
    cacheModules.flatMap((m) => m.names),
  );
  checkCapturedListed(documentModules, documents);
  return new StrataRuntime(documentModules, cacheModules, logger, clock, refreshConcurrency, documents);
}

function checkUnique(names: ReadonlyArray<string>, what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ConfigurationError(`${what}.${name}`, "is routed by two modules");
    seen.add(name);
  }
}

class StrataRuntime implements Runtime {
  #state: RuntimeState = "created";
  #databases: Database[] = [];
  #caches: CacheBackend[] = [];
  /** Each cache module's lock and rate-limit stores, by cache name. */
  #coordination: Array<(name: string) => CoordinationStores | undefined> = [];
  /** Push invalidation, per backend that has a channel. */
  #push = new Map<CacheBackend, InvalidationRouter>();
  /** The push channels the cache modules opened; stopped before their backends close. */
  #channels: InvalidationChannel[] = [];
  /** Change capture per documents module that has captured documents; stopped first. */
  #captures: Array<{ readonly names: ReadonlyArray<string>; readonly capture: ChangeCapture }> = [];
  #registry: DocumentRegistry | undefined;
  #refresher: BackgroundRefresher | undefined;
  #fills: PendingFills | undefined;
  #root: RuntimeContext | undefined;
  #cacheRegistry: CacheRegistry | undefined;
  /** Namespaces whose key/value L1 listens to push (the router's key parser looks them up first). */
  readonly #kvPushNamespaces: string[] = [];
  /** Pushed keys → an L1 target: a key/value entry of a push-enabled kv L1, else a document entry. */
  readonly #parsePushedKey = (key: string) => {
    if (this.#kvPushNamespaces.length > 0) {
      const kv = parseKvKey(key, this.#kvPushNamespaces);
      if (kv !== undefined) return { prefix: kv.prefix, id: kv.key ?? FLUSH_ALL_KEYS };
    }
    return parseEntryKey(key);
  };
  #starting: Promise<void> | undefined;
  #backgroundStopped = false;
  #stopping: Promise<void> | undefined;
  #health: HealthBoard | undefined;
  readonly #ensureRunning = () => {
    if (this.#state !== "started") throw new RuntimeStateError(`runtime is ${this.#state}; call start() first`);
  };

  constructor(
    private readonly documentModules: ReadonlyArray<DocumentsModule>,
    private readonly cacheModules: ReadonlyArray<CacheModule>,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly refreshConcurrency: number,
    private readonly documents: ReadonlyArray<DocumentSpec>,
  ) {}

  get state(): RuntimeState {
    return this.#state;
  }

  start(): Promise<void> {
    if (this.#state !== "created") {
      return Promise.reject(new RuntimeStateError(`start() called on a runtime that is ${this.#state}`));
    }
    this.#state = "starting";
    this.#starting = this.#start();
    return this.#starting;
  }

  /**
   * Opens modules one step at a time. After every step it checks whether stop() was called meanwhile (SIGTERM during
   * startup): if so it closes everything it opened, including what the step that was running has just opened, and
   * rejects with RuntimeStateError. stop() waits for that, so it resolves only once nothing is left open.
   */
  async #start(): Promise<void> {
    const env: ModuleEnv = { logger: this.logger, clock: this.clock };
    const routes = new Map<string, DocumentRoute>();
    const opened: TableRoute[] = [];
    const health = new HealthBoard(this.clock, this.logger);
    this.#health = health;
    try {
      for (const module of this.documentModules) {
        const database = await module.open(env);
        this.#databases.push(database);
        health.add(database, "postgres", undefined, () => database.ping());
        this.#throwIfStopped();
        await database.ping();
        this.#throwIfStopped();
        if (this.documentModules.length > 1) {
          opened.push(...(await openedTableRoutes(module.routes, module.location, database)));
          checkTableRoutes(opened); // two spellings of one database must not share a table
          this.#throwIfStopped();
        }
      }
      // Only once every database is known to be distinct: a refused start creates nothing.
      // Listed tenant-scoped documents get (or must have) a tenant column.
      const tenantScoped = new Set(this.documents.filter((spec) => spec.tenantScoped === true).map((s) => s.name));
      for (const [i, module] of this.documentModules.entries()) {
        const database = this.#databases[i] as Database;
        const tables = new Map<string, TableRef>();
        for (const [name, table] of module.routes)
          tables.set(name, tenantScoped.has(name) ? { ...table, tenant: true } : table);
        if (module.migrate) await database.migrate([...tables.values()]);
        else await database.verify([...tables.values()]);
        this.#throwIfStopped();
        for (const [name, table] of tables) routes.set(name, { database, table, keyring: module.keyring });
      }
      for (const module of this.cacheModules) {
        const { backend, invalidation, coordination } = await module.open(env);
        this.#caches.push(backend);
        if (coordination !== undefined) this.#coordination.push(coordination);
        health.add(backend, backend.kind, undefined, backend.ping === undefined ? undefined : () => backend.ping!());
        if (invalidation !== undefined) {
          this.#channels.push(invalidation);
          const pushHealth = health.add(invalidation, "push", { state: "down", reason: "not armed yet" });
          this.#push.set(backend, new InvalidationRouter(invalidation, this.logger, this.#parsePushedKey, pushHealth));
        }
        this.#throwIfStopped();
      }
      // Arms before the first read can fill L1; never fails start (the channel retries or degrades to TTL-only).
      await Promise.all([...this.#push.values()].map((router) => router.start()));
      this.#throwIfStopped();
      this.#refresher = new BackgroundRefresher(this.refreshConcurrency, this.logger);
      this.#registry = new DocumentRegistry(
        this.#databases,
        routes,
        this.#caches,
        this.clock,
        this.logger,
        (document) => this.#attachPush(document),
      );
      this.#registry.refresher = this.#refresher;
      this.#fills = new PendingFills(this.logger);
      this.#registry.fills = this.#fills;
      this.#registry.health = health;
      for (const spec of this.documents) this.#registry.wire(spec); // throws ConfigurationError without a route
      for (const module of this.documentModules) {
        const setup = module.changeCapture;
        if (setup === undefined) continue;
        const targets = new CaptureTargets(module, this.#registry);
        // The relay's health (`change-capture`, `change-capture#2`… per database), when this runtime relays.
        const relayHealth = setup.relay ? health.add(setup, "change-capture") : undefined;
        const env = { logger: this.logger, clock: this.clock, targetFor: targets.targetFor, health: relayHealth };
        const capture = await setup.open(env, module.migrate);
        this.#captures.push({ names: [...setup.routes.keys()], capture });
        this.#throwIfStopped();
      }
    } catch (error) {
      await this.#closeAll();
      this.#state = "stopped";
      throw error;
    }
    const coordination = [...this.#coordination];
    this.#cacheRegistry = new CacheRegistry(
      this.#caches,
      this.clock,
      this.logger,
      this.#refresher,
      new Map(this.cacheModules.flatMap((module) => [...(module.kvRoutes ?? [])])),
      (namespace, target) => this.#attachKvPush(namespace, target),
      (name) => {
        for (const stores of coordination) {
          const found = stores(name);
          if (found !== undefined) return found;
        }
        return undefined;
      },
    );
    this.#root = new RuntimeContext(this.#registry, undefined, this.#ensureRunning, this.#cacheRegistry);
    this.#state = "started";
  }

  /** Ends start() when stop() was called while it awaited: state is then "stopping". */
  #throwIfStopped(): void {
    if (this.#state !== "starting") throw new RuntimeStateError("stop() was called before start() finished");
  }

  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#state === "created" || this.#state === "stopped") {
      this.#state = "stopped";
      return Promise.resolve();
    }
    this.#state = "stopping";
    this.#stopping = (async () => {
      // A start() in progress sees the state at its next step, closes what it opened, and rejects (its caller is
      // told); stop() itself succeeds once everything is closed.
      await this.#starting?.catch(() => {});
      await this.#closeAll();
      this.#state = "stopped";
    })();
    return this.#stopping;
  }

  context(options?: ContextOptions): Context {
    this.#ensureRunning();
    const tenant = tenantOf(options);
    return new RuntimeContext(
      this.#registry as DocumentRegistry,
      undefined,
      this.#ensureRunning,
      this.#cacheRegistry as CacheRegistry,
      tenant,
    );
  }

  cache(target: CacheSpec | string, options?: ContextOptions): Cache {
    this.#ensureRunning();
    return (this.#cacheRegistry as CacheRegistry).view(target, this.#ensureRunning, tenantOf(options));
  }

  transaction<T>(fn: (tx: Context) => Promise<T>): Promise<T> {
    // Like every call that returns a promise: a runtime that is not running rejects, it does not throw.
    try {
      this.#ensureRunning();
    } catch (error) {
      return Promise.reject(error);
    }
    return (this.#root as RuntimeContext).transaction(fn);
  }

  stats(): RuntimeStats {
    const documents: Record<string, DocumentStats & { cache: string | undefined }> = {};
    for (const [name, document] of this.#registry?.documents ?? []) {
      if (document.spec.tenantScoped === true) continue; // counted per tenant below
      documents[name] = { ...document.coordinator.stats(), cache: document.cache?.name };
    }
    // One entry per tenant used (`<name>@<tenant>`): as many as the tenants this process served.
    for (const [name, document] of this.#registry?.tenantDocuments ?? []) {
      documents[name] = { ...document.coordinator.stats(), cache: document.cache?.name };
    }
    const caches: Record<string, { backend: string; namespace: string; push: PushStats; sealing?: SealingStats }> = {};
    for (const backend of this.#caches) {
      const router = this.#push.get(backend);
      for (const name of backend.names) {
        const namespace = backend.namespace(name);
        if (!namespace) continue;
        const push = router !== undefined && namespace.invalidationPush === true ? router.stats() : PUSH_OFF;
        const sealing = namespace.sealer?.stats();
        caches[name] = {
          backend: backend.kind,
          namespace: namespace.namespace,
          push,
          ...(sealing === undefined ? {} : { sealing }),
        };
      }
    }
    const changeCapture: Record<string, ChangeCaptureStats> = {};
    for (const { names, capture } of this.#captures) {
      const stats = capture.stats();
      for (const name of names) changeCapture[name] = stats;
    }
    return { state: this.#state, documents, caches, changeCapture };
  }

  async settled(): Promise<void> {
    await this.#fills?.settled();
  }

  health(): HealthReport {
    const board = this.#health;
    return {
      ready: this.#state === "started" && board !== undefined && board.noneDown("postgres"),
      dependencies: board?.snapshot() ?? {},
    };
  }

  /**
   * Puts a push-enabled document under its backend's channel (a document without L1 has nothing to drop, unless
   * lease waiters are woken by its invalidations).
   */
  #attachPush(document: DocumentRuntime): void {
    const cache = document.cache;
    const leased = document.spec.cache?.lease !== undefined;
    if (cache?.invalidationPush !== true || (document.l1 === undefined && !leased)) return;
    // A tenant's place (TaggedCacheNamespace, or its own namespace) belongs to its route's backend.
    const route = cache.base ?? cache;
    for (const [backend, router] of this.#push) {
      if (backend.namespace(cache.name) === route) {
        router.attach(cache.entryPrefix(document.spec.fingerprint), document.coordinator, document.l1 ?? NO_L1);
      }
    }
  }

  /** Puts a key/value cache's L1 and lease waiters under its backend's push channel (when its route asked for push). */
  #attachKvPush(namespace: CacheNamespace, target: CacheCore["pushTarget"]): void {
    if (namespace.invalidationPush !== true) return;
    for (const [backend, router] of this.#push) {
      if (backend.namespace(namespace.name) === namespace) {
        this.#kvPushNamespaces.push(namespace.namespace);
        router.attach(kvPrefix(namespace.namespace), target, target);
      }
    }
  }

  /** Stops background work, then closes every connection the runtime opened. Safe to call more than once. */
  async #closeAll(): Promise<void> {
    this.#health?.stop();
    const captures = this.#captures.splice(0);
    for (const result of await Promise.allSettled(captures.map(({ capture }) => capture.stop()))) {
      if (result.status === "rejected") this.logger.warn("error while closing", { error: String(result.reason) });
    }
    if (!this.#backgroundStopped) {
      this.#backgroundStopped = true;
      this.#registry?.stop();
      await this.#refresher?.drain(5_000);
      await this.#fills?.drain(5_000);
    }
    const channels = this.#channels;
    this.#channels = [];
    for (const result of await Promise.allSettled(channels.map((channel) => channel.stop()))) {
      if (result.status === "rejected") this.logger.warn("error while closing", { error: String(result.reason) });
    }
    const closing = [...this.#caches.map((c) => c.close()), ...this.#databases.map((d) => d.close())];
    this.#caches = [];
    this.#coordination = [];
    this.#databases = [];
    for (const result of await Promise.allSettled(closing)) {
      if (result.status === "rejected") this.logger.warn("error while closing", { error: String(result.reason) });
    }
  }
}

/** The checked tenant of `runtime.context(options)` / `runtime.cache(name, options)`. */
function tenantOf(options: ContextOptions | undefined): string | undefined {
  if (options === undefined) return undefined;
  const opts = expectConfigObject(options, "context", "{ tenant }");
  rejectUnknownKeys(opts, ["tenant"], "context");
  return opts.tenant === undefined ? undefined : checkTenantId(opts.tenant, "context.tenant");
}
