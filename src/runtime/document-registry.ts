import type { z } from "zod";
import type { Clock } from "../kernel/clock.js";
import { systemClock } from "../kernel/clock.js";
import { coarseNow } from "../kernel/coarse-clock.js";
import { ConfigurationError, TenantRequiredError } from "../kernel/errors.js";
import type { Logger } from "../kernel/logger.js";
import { createL1Store } from "../l1/create-l1-store.js";
import type { L1Store } from "../l1/l1-store.js";
import { PrefixedL1Store } from "../l1/prefixed-l1-store.js";
import type { CacheBackend, CacheNamespace } from "../l2/cache-backend.js";
import type { DocumentEntryStore } from "../l2/document-entry.js";
import { SealedEntryStore } from "../l2/sealed-entry-store.js";
import type { HealthBoard } from "../observability/health-monitor.js";
import type { BackgroundRefresher } from "../read-through/background-refresher.js";
import type { FrozenDocument } from "../read-through/document-codec.js";
import type { CommandSchemas } from "../read-through/document-command.js";
import { entryLifetime } from "../read-through/lifetime-policy.js";
import type { PendingFills } from "../read-through/pending-fills.js";
import { ReadThroughCoordinator } from "../read-through/read-through-coordinator.js";
import type { Database, DocumentRepository, TableRef } from "../repository/document-repository.js";
import { FieldSealer } from "../sealing/field-sealer.js";
import type { Keyring } from "../sealing/keyring.js";
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
  readonly l1: L1Store<FrozenDocument> | undefined;
  /** The tenant this runtime serves (a tenant-scoped document has one per tenant used); undefined otherwise. */
  readonly tenant?: string;
}

export interface DocumentRoute {
  readonly database: Database;
  readonly table: TableRef;
  /** The keyring of the module's sealed fields. */
  readonly keyring?: Keyring | undefined;
}

/**
 * Resolves specs to their routes on first use and keeps one DocumentRuntime per document name.
 * The same name used with a different spec, or two documents on one cache route, is a configuration error (see
 * route-conflicts.ts), not silently shared data.
 */
export class DocumentRegistry {
  readonly #documents = new Map<string, DocumentRuntime>();
  /** Tenant-scoped documents: `<name>@<tenant>` → that tenant's runtime (one coordinator per tenant used). */
  readonly #tenants = new Map<string, DocumentRuntime>();
  readonly #warnedUncached = new Set<string>();
  /** Runs XFetch background refreshes for every document of the runtime. */
  refresher: BackgroundRefresher | undefined;
  /** Fills left running after their reads answered, for every document of the runtime (drained on stop). */
  fills: PendingFills | undefined;
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

  /**
   * The runtime of `spec` for `tenant`: a tenant-scoped document needs a tenant (TenantRequiredError) and gets one
   * runtime per tenant — its repository filtered on the tenant, its L2 place under the route's tenancy tier, its keys
   * in the shared L1 prefixed with the tenant; any other document ignores the tenant.
   */
  resolve(spec: DocumentSpec, tenant?: string): DocumentRuntime {
    const base = this.#resolveBase(spec);
    if (base.spec.tenantScoped !== true) return base;
    if (tenant === undefined) throw new TenantRequiredError(spec.name);
    const key = `${spec.name}@${tenant}`;
    let runtime = this.#tenants.get(key);
    if (runtime === undefined) {
      runtime = this.#forTenant(base, tenant);
      this.#tenants.set(key, runtime);
      this.onDocument?.(runtime);
    }
    return runtime;
  }

  /** Wires `spec` (its route, cache, L1) without choosing a tenant: what start() does for listed documents. */
  wire(spec: DocumentSpec): void {
    this.#resolveBase(spec);
  }

  #forTenant(base: DocumentRuntime, tenant: string): DocumentRuntime {
    const spec = base.spec;
    const route = this.routes.get(spec.name) as DocumentRoute;
    const cache = base.cache?.forTenant?.(tenant) ?? base.cache;
    const repository = route.database.repository(spec.name, route.table, {
      tenant,
      sealed: this.#fieldSealer(spec, route),
    });
    const l1 = base.l1 === undefined ? undefined : new PrefixedL1Store(base.l1, `${tenant}\u0000`);
    const coordinator = new ReadThroughCoordinator({
      document: spec.name,
      repository,
      autocommit: route.database.autocommit,
      cache: spec.cache,
      entries: this.#entries(spec, cache, tenant),
      l1,
      refresher: this.refresher,
      fills: this.fills,
      clock: this.clock,
      logger: this.logger,
      codec: base.schemas.codec,
      maxBodyBytes: cache?.maxValueBytes,
    });
    return { ...base, repository, coordinator, cache, l1, tenant };
  }

  /** A document's L2 entries in `cache`, sealed when the route seals (AAD: namespace, tenant, fingerprint). */
  #entries(spec: DocumentSpec, cache: CacheNamespace | undefined, tenant: string | undefined) {
    if (cache === undefined) return undefined;
    const entries: DocumentEntryStore = cache.entries(spec.fingerprint, entryLifetime(spec.cache).maxTtlMs);
    const sealer = cache.sealer;
    if (sealer === undefined) return entries;
    return new SealedEntryStore(entries, sealer, `d|${cache.namespace}|${tenant ?? ""}|${spec.fingerprint}`);
  }

  #fieldSealer(spec: DocumentSpec, route: DocumentRoute): FieldSealer | undefined {
    if (spec.sealedFields === undefined) return undefined;
    if (route.keyring === undefined) {
      throw new ConfigurationError(
        `documents.${spec.name}.sealedFields`,
        "needs a keyring: add encryption: keyring({ … }) to its postgresModule",
      );
    }
    return new FieldSealer(route.keyring, `${route.table.schema}.${route.table.table}`, spec.sealedFields);
  }

  /** Tenant runtimes of tenant-scoped documents, by `<name>@<tenant>`. */
  get tenantDocuments(): ReadonlyMap<string, DocumentRuntime> {
    return this.#tenants;
  }

  #resolveBase(spec: DocumentSpec): DocumentRuntime {
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
    if (spec.tenantScoped === true && route.table.tenant !== true) {
      throw new ConfigurationError(
        `documents.${spec.name}`,
        "is tenant-scoped: list it in createRuntime({ documents }) so start() creates (or checks) its tenant column",
      );
    }
    if (spec.sealedFields !== undefined && cache !== undefined && cache.sealer?.encrypts !== true) {
      throw new ConfigurationError(
        `documents.${spec.name}.sealedFields`,
        `need an encrypting cache route: add encryption to caches.${cache.name}, so L2 never holds them in clear`,
      );
    }
    const maxTtlMs = entryLifetime(spec.cache).maxTtlMs;
    const entries = this.#entries(spec, cache, undefined);
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
          }) as L1Store<FrozenDocument>)
        : undefined;
    // A tenant-scoped document's base repository is never handed out (resolve() returns a tenant's runtime).
    const repository = route.database.repository(spec.name, route.table, { sealed: this.#fieldSealer(spec, route) });
    const coordinator = new ReadThroughCoordinator({
      document: spec.name,
      repository,
      autocommit: route.database.autocommit,
      cache: spec.cache,
      entries,
      l1,
      refresher: this.refresher,
      fills: this.fills,
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
    if (spec.tenantScoped !== true) this.onDocument?.(runtime);
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
    for (const document of this.#tenants.values()) document.coordinator.stop();
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
