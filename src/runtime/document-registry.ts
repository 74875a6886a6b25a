import type { z } from "zod";
import type { Clock } from "../kernel/clock.js";
import { systemClock } from "../kernel/clock.js";
import { coarseNow } from "../kernel/coarse-clock.js";
import { ConfigurationError } from "../kernel/errors.js";
import type { Logger } from "../kernel/logger.js";
import { createL1Store } from "../l1/create-l1-store.js";
import type { L1Store } from "../l1/l1-store.js";
import type { CacheBackend, CacheNamespace } from "../l2/cache-backend.js";
import type { HealthBoard } from "../observability/health-monitor.js";
import type { BackgroundRefresher } from "../read-through/background-refresher.js";
import type { CommandSchemas } from "../read-through/document-command.js";
import type { L1Slot } from "../read-through/l1-slot.js";
import { entryLifetime } from "../read-through/lifetime-policy.js";
import { ReadThroughCoordinator } from "../read-through/read-through-coordinator.js";
import type { Database, DocumentRepository, TableRef } from "../repository/document-repository.js";
import type { DocumentSpec } from "../spec/document-spec.js";
import { fieldCodec } from "../spec/field-codec.js";
import { sharedCacheRouteError, specConflictError } from "./route-conflicts.js";

/** Everything one document type has on one runtime, shared by the ports of every context. */
export interface DocumentRuntime {
  readonly spec: DocumentSpec;
  readonly database: Database;
  readonly repository: DocumentRepository;
  readonly coordinator: ReadThroughCoordinator;
  readonly schemas: CommandSchemas;
  readonly cache: CacheNamespace | undefined;
  /** The document's L1 (also reachable through the coordinator); undefined without one. */
  readonly l1: L1Store<L1Slot> | undefined;
}

export interface DocumentRoute {
  readonly database: Database;
  readonly table: TableRef;
}

/**
 * Resolves specs to their routes on first use and keeps one DocumentRuntime per document name.
 * The same name used with a different spec, or two documents on one cache route, is a configuration error (see
 * route-conflicts.ts), not silently shared data.
 */
export class DocumentRegistry {
  readonly #documents = new Map<string, DocumentRuntime>();
  readonly #warnedUncached = new Set<string>();
  /** Runs XFetch background refreshes for every document of the runtime. */
  refresher: BackgroundRefresher | undefined;
  /** The runtime's dependencies: each coordinator reports its L2 and Postgres calls to theirs. */
  health: HealthBoard | undefined;

  constructor(
    private readonly databases: ReadonlyArray<Database>,
    private readonly routes: ReadonlyMap<string, DocumentRoute>,
    private readonly caches: ReadonlyArray<CacheBackend>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Called once per document, when it is first resolved (push invalidation attaches here). */
    private readonly onDocument?: (document: DocumentRuntime) => void,
  ) {}

  resolve(spec: DocumentSpec): DocumentRuntime {
    if (
      typeof spec !== "object" ||
      spec === null ||
      typeof spec.name !== "string" ||
      typeof spec.fingerprint !== "string"
    ) {
      throw new ConfigurationError("spec", "must be a DocumentSpec made by defineDocument()");
    }
    const known = this.#documents.get(spec.name);
    if (known !== undefined) {
      const conflict = specConflictError(known.spec, spec);
      if (conflict !== undefined) throw conflict;
      return known;
    }
    const route = this.routes.get(spec.name);
    if (route === undefined) {
      throw new ConfigurationError(
        `documents.${spec.name}`,
        `has no route: add { ${spec.name}: { table: "${spec.name}" } } to postgresModule({ documents })`,
      );
    }
    const fields = spec.fields as z.ZodObject;
    const codec = fieldCodec(fields);
    const cache = this.#cacheFor(spec);
    if (cache !== undefined) {
      const sharing = [...this.#documents.values()].find((document) => document.cache === cache);
      if (sharing !== undefined) throw sharedCacheRouteError(spec.name, sharing.spec.name, cache.name);
    }
    const maxTtlMs = entryLifetime(spec.cache).maxTtlMs;
    const entries = cache?.entries(spec.fingerprint, maxTtlMs);
    // Fill leases when the spec asks and the backend has them; push invalidation then wakes waiters.
    const leases =
      entries !== undefined && spec.cache?.lease !== undefined && cache?.leases !== undefined
        ? { entries: cache.leases(spec.fingerprint, maxTtlMs), pushed: cache.invalidationPush === true }
        : undefined;
    const l1Spec = spec.cache?.l1;
    const l1 =
      entries !== undefined && l1Spec !== undefined
        ? (createL1Store({
            policy: l1Spec.policy,
            capacity: l1Spec.capacity,
            ttl: l1Spec.ttlMs,
            // The default clock is coarsened on the L1 hit path (see coarse-clock.ts); an injected one is exact.
            now: this.clock === systemClock ? coarseNow : () => this.clock.now(),
          }) as L1Store<L1Slot>)
        : undefined;
    const repository = route.database.repository(spec.name, route.table);
    const coordinator = new ReadThroughCoordinator({
      document: spec.name,
      repository,
      autocommit: route.database.autocommit,
      cache: spec.cache,
      entries,
      l1,
      refresher: this.refresher,
      clock: this.clock,
      logger: this.logger,
      codec,
      maxBodyBytes: cache?.maxValueBytes,
      l2Health: cache === undefined ? undefined : this.#backendHealth(cache),
      sourceHealth: this.health?.of(route.database),
      leases,
    });
    const runtime: DocumentRuntime = {
      spec,
      database: route.database,
      repository,
      coordinator,
      schemas: { create: fields, patch: fields.partial(), codec },
      cache,
      l1,
    };
    this.onDocument?.(runtime);
    this.#documents.set(spec.name, runtime);
    return runtime;
  }

  /** The database of the first postgresModule: where `ctx.transaction` runs. */
  primaryDatabase(): Database {
    const database = this.databases[0];
    if (database === undefined) throw new ConfigurationError("modules", "include no postgresModule");
    return database;
  }

  get documents(): ReadonlyMap<string, DocumentRuntime> {
    return this.#documents;
  }

  /** The routed cache namespace for a cache name, or undefined. */
  cacheNamespace(name: string): CacheNamespace | undefined {
    for (const backend of this.caches) {
      const namespace = backend.namespace(name);
      if (namespace !== undefined) return namespace;
    }
    return undefined;
  }

  stop(): void {
    for (const document of this.#documents.values()) document.coordinator.stop();
  }

  #backendHealth(cache: CacheNamespace) {
    const backend = this.caches.find((candidate) => candidate.namespace(cache.name) === cache);
    return backend === undefined ? undefined : this.health?.of(backend);
  }

  #cacheFor(spec: DocumentSpec): CacheNamespace | undefined {
    if (spec.cache === undefined) return undefined;
    const namespace = this.cacheNamespace(spec.cache.name);
    if (namespace === undefined && !this.#warnedUncached.has(spec.name)) {
      this.#warnedUncached.add(spec.name);
      this.logger.warn("document has a cache spec but no cache module routes its cache name; reads go to Postgres", {
        document: spec.name,
        cache: spec.cache.name,
      });
    }
    return namespace;
  }
}
