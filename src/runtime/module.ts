import type { CacheBackend } from "../l2/cache-backend.js";
import type { Database, TableRef } from "../repository/document-repository.js";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";

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
  open(env: ModuleEnv): Promise<Database>;
}

/** Routes cache names to namespaces in one backend (`redisModule`, `memoryCacheModule`). */
export interface CacheModule {
  readonly kind: "cache";
  readonly names: ReadonlyArray<string>;
  open(env: ModuleEnv): Promise<CacheBackend>;
}

export type RuntimeModule = DocumentsModule | CacheModule;
