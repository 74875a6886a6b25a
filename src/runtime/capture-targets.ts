/**
 * Connects change capture to the documents of a runtime: which document a captured table is, and the relay's
 * target for it (its L2 entries through the fences, and this process's L1).
 *
 * Exports: `CaptureTargets`, `checkCapturedListed(modules, documents)`.
 */
import type { CaptureTarget } from "../change-capture/capture-target.js";
import type { CapturedTable } from "../change-capture/captured-change.js";
import { DocumentCaptureTarget, NO_CACHE_TARGET } from "../change-capture/document-capture-target.js";
import { ConfigurationError } from "../kernel/errors.js";
import { entryLifetime } from "../read-through/lifetime-policy.js";
import type { DocumentSpec } from "../spec/document-spec.js";
import type { DocumentRegistry } from "./document-registry.js";
import type { DocumentsModule } from "./module.js";

/** The targets of one module's captured tables, built on first use from the registry's documents. */
export class CaptureTargets {
  readonly #targets = new Map<string, CaptureTarget>();

  constructor(
    private readonly module: DocumentsModule,
    private readonly registry: DocumentRegistry,
  ) {}

  readonly targetFor = (table: CapturedTable): CaptureTarget | undefined => {
    for (const [name, route] of this.module.changeCapture?.routes ?? []) {
      if (route.schema !== table.schema || route.table !== table.table) continue;
      const known = this.#targets.get(name);
      if (known !== undefined) return known;
      const document = this.registry.documents.get(name);
      if (document === undefined) return undefined;
      const cache = document.cache;
      const target =
        cache === undefined
          ? NO_CACHE_TARGET
          : new DocumentCaptureTarget({
              entries: cache.entries(document.spec.fingerprint, entryLifetime(document.spec.cache).maxTtlMs),
              ttlMs: entryLifetime(document.spec.cache).maxTtlMs,
              slideMs: document.spec.cache?.slidingTtlMs ?? 0,
              dropLocal: (id) => document.coordinator.invalidateLocal(id),
              flushLocal: () => document.coordinator.flushLocal(),
            });
      this.#targets.set(name, target);
      return target;
    }
    return undefined;
  };
}

/**
 * A runtime that relays must know every captured document's spec (its cache keys depend on it): they must be listed
 * in `createRuntime({ documents })`, which wires them at start.
 */
export function checkCapturedListed(modules: ReadonlyArray<DocumentsModule>, documents: ReadonlyArray<DocumentSpec>) {
  const listed = new Set(documents.map((spec) => spec.name));
  for (const module of modules) {
    if (module.changeCapture?.relay !== true) continue;
    for (const name of module.changeCapture.routes.keys()) {
      if (!listed.has(name)) {
        throw new ConfigurationError(
          `documents.${name}`,
          "has changeCapture and this runtime relays: list its spec in createRuntime({ documents }) so the relay knows its cache keys (or set changeRelay: { enabled: false })",
        );
      }
    }
  }
}
