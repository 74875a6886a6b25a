/**
 * What the push invalidation tests share: their document and fast timing, the wiring of a runtime in a peer process,
 * and small probes on a runtime's L1 and push state. (In-process runtimes come from buildSystem.)
 */
import type { DocumentSpec, Logger, PushStats, PushTiming, Runtime } from "../../src/index.js";
import { waitUntil } from "./eventually.js";
import { productSpec, type RuntimeWiring } from "./strata.js";

/** The document of the push tests: L2 for 5 minutes, L1 for a minute (far longer than any test waits). */
export const pushProducts = productSpec({ ttl: "5m", l1: { ttl: "1m", capacity: 100 } });

/** Fast fault detection for tests: a lost PING is noticed within 600 ms, reconnects within 200 ms. */
export const FAST_TIMING: Partial<PushTiming> = {
  heartbeatIntervalMs: 200,
  heartbeatTimeoutMs: 400,
  reconnectBaseMs: 20,
  reconnectMaxMs: 200,
};

/** What a peer process is told (JSON): a runtime with L1 and (by default) push on a given Redis and namespace. */
export interface PushRuntimeOptions {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Cache namespace of every document (`<namespace>:<document>`). */
  readonly namespace: string;
  readonly push?: boolean;
  readonly timing?: Partial<PushTiming>;
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  /** Tables routed (default `["products"]`). */
  readonly documents?: ReadonlyArray<string>;
  /** Change capture of the routed documents, and the relay's options (a relaying peer lists `pushProducts`). */
  readonly changeCapture?: RuntimeWiring["changeCapture"];
  readonly changeRelay?: RuntimeWiring["changeRelay"];
}

/** The wiring of a peer process's runtime (for `startRuntime`): push on with fast timing unless told otherwise. */
export function pushWiring(options: PushRuntimeOptions): RuntimeWiring {
  return {
    databaseUrl: options.databaseUrl,
    redis: options.redisUrl,
    namespace: options.namespace,
    invalidationPush: options.push ?? true,
    pushTiming: options.timing ?? FAST_TIMING,
    ...(options.documents ? { documents: options.documents } : {}),
    ...(options.timeoutMs !== undefined ? { redisTimeoutMs: options.timeoutMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.changeCapture ? { changeCapture: options.changeCapture, specs: [pushProducts] } : {}),
    ...(options.changeRelay ? { changeRelay: options.changeRelay } : {}),
  };
}

/** Push stats of a cache route (the document name). */
export function pushStats(runtime: Runtime, cache = "products"): PushStats {
  const stats = runtime.stats().caches[cache];
  if (stats === undefined) throw new Error(`no cache ${cache}`);
  return stats.push;
}

/**
 * Reads until the document sits in L1. A read that fills L2 from Postgres does not stay in L1 under push: the fill's
 * own SET comes back as an invalidation (Redis cannot tell it from another writer's). The next read, an L2 hit, stays.
 */
export async function warm(runtime: Runtime, spec: DocumentSpec, id: string, timeoutMs = 5_000): Promise<number> {
  const query = runtime.context().document.query(spec);
  let rev = 0;
  await waitUntil(
    async () => {
      rev = (await query.get(id)).rev;
      return query.peek(id) !== undefined;
    },
    { timeoutMs, intervalMs: 10, message: `document ${id} never settled in L1` },
  );
  return rev;
}

export function peekRev(runtime: Runtime, spec: DocumentSpec, id: string): number | undefined {
  return runtime.context().document.query(spec).peek(id)?.rev;
}

export function waitForState(runtime: Runtime, state: PushStats["state"], timeoutMs: number, cache = "products") {
  return waitUntil(() => pushStats(runtime, cache).state === state, {
    timeoutMs,
    intervalMs: 5,
    message: `push never became ${state}`,
  });
}

/** A logger that records warnings (to assert "logged once"). */
export class RecordingLogger implements Logger {
  readonly warnings: Array<{ message: string; fields: Readonly<Record<string, unknown>> | undefined }> = [];
  debug(): void {}
  info(): void {}
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.warnings.push({ message, fields });
  }
  error(message: string, fields?: Readonly<Record<string, unknown>>): void {
    this.warnings.push({ message, fields });
  }
}
