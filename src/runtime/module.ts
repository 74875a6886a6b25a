import type { InvalidationChannel } from "../invalidation/invalidation-channel.js";
import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import type { CacheBackend } from "../l2/cache-backend.js";
import type { Database, TableRef } from "../repository/document-repository.js";
import type { Keyring } from "../sealing/keyring.js";
import type { DataLocation, NamespaceRoute } from "./route-conflicts.js";

/** What a module gets when the runtime opens it. */
export interface ModuleEnv {
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Routes document names to tables in one database (`postgresModule`). */
export interface DocumentsModule {
  readonly kind: "documents";
  readonly routes: ReadonlyMap<string, TableRef>;
  readonly migrate: boolean;
  /** The keyring of sealed fields (postgresModule `encryption`). */
  readonly keyring?: Keyring;
  /** The database the routes live in; two modules with the same location must not share a table. */
  readonly location: DataLocation;
  open(env: ModuleEnv): Promise<Database>;
}

/** Routes cache names to namespaces in one backend (`redisModule`, `memoryCacheModule`). */
export interface CacheModule {
  readonly kind: "cache";
  readonly names: ReadonlyArray<string>;
  /** Each route's namespace and server; no two may overlap (see route-conflicts.ts). */
  readonly namespaces: ReadonlyArray<NamespaceRoute>;
  open(env: ModuleEnv): Promise<OpenedCache>;
}

/**
 * An opened cache module: the L2 backend, and the push invalidation channel when a route asked for push. The two
 * are separate ports; the runtime wires the channel to the documents' L1 and stops it before closing the backend.
 */
export interface OpenedCache {
  readonly backend: CacheBackend;
  /** Not started: the runtime starts it. */
  readonly invalidation?: InvalidationChannel | undefined;
}

/** What createRuntime composes: built by postgresModule, redisModule or memoryCacheModule; opaque to callers. */
export type RuntimeModule = DocumentsModule | CacheModule;
