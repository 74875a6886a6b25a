import type { CaptureMode } from "../change-capture/capture-stats.js";
import type { CaptureEnv, ChangeCapture } from "../change-capture/change-capture.js";
import type { InvalidationChannel } from "../invalidation/invalidation-channel.js";
import type { Clock } from "../kernel/clock.js";
import type { Logger } from "../kernel/logger.js";
import type { CacheBackend } from "../l2/cache-backend.js";
import type { Database, TableRef } from "../repository/document-repository.js";
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
  /** The database the routes live in; two modules with the same location must not share a table. */
  readonly location: DataLocation;
  open(env: ModuleEnv): Promise<Database>;
  /** Change capture of the module's documents, when any opted in (`changeCapture`). */
  readonly changeCapture?: ChangeCaptureModule | undefined;
}

/** The captured documents of a documents module and how to open their relay (after `open`). */
export interface ChangeCaptureModule {
  readonly mode: CaptureMode;
  /** Captured document name → its table. */
  readonly routes: ReadonlyMap<string, TableRef>;
  /** Whether this runtime runs a relay (then every captured document must be listed in `documents`). */
  readonly relay: boolean;
  /** Installs the triggers when `migrate` (else only checks them) and starts the relay. */
  open(env: CaptureEnv, migrate: boolean): Promise<ChangeCapture>;
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
