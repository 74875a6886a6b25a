/**
 * The tests' one builder for the system under test: a started runtime on the file's Postgres database, with the L2
 * chosen by `redis`, optionally behind a TCP proxy, on a manual clock, with a seeded PRNG, plus the handles a test
 * drives (the private redis-server, the proxy, a raw Redis client, the clock). `stop()` undoes all of it, in reverse.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Clock, Logger, PushTiming, Runtime } from "../../src/index.js";
import { type RedisProcess, type StartRedisOptions, startRedis } from "./redis.js";
import { seededRandom } from "./seeded-random.js";
import { ManualClock, type RuntimeWiring, startRuntime } from "./strata.js";
import { proxiedUrl, proxyTo, type TcpProxy } from "./tcp-proxy.js";

export interface SystemOptions {
  /** The file's database url (`env.postgres.url`), or "pglite" for a fresh embedded database. */
  readonly postgres: string | "pglite";
  /** The L2: the in-process one, a private redis-server started for this system, a given url, or none. */
  readonly redis: "memory" | "private" | "none" | { readonly url: string };
  /** `redis-server` arguments of the private server. */
  readonly redisServer?: StartRedisOptions;
  /** Puts a TCP proxy between the runtime and that server (the raw client and `startRuntime` peers go direct). */
  readonly proxy?: "postgres" | "redis";
  /** `"manual"`: a ManualClock starting now, handed to the runtime and returned as `clock`. */
  readonly clock?: Clock | "manual";
  /** Seed of `random`, the system's PRNG (default 1). */
  readonly seed?: number;
  /** Tables routed (default `["products"]`). */
  readonly documents?: ReadonlyArray<string>;
  /** Push invalidation on every cache (and its timing, when given). */
  readonly push?: boolean | Partial<PushTiming>;
  readonly namespace?: string;
  readonly logger?: Logger;
  readonly onQuery?: (sql: string) => void;
  /** The Redis timeout of the system's runtime (peers get none unless they ask). */
  readonly redisTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
  readonly refreshConcurrency?: number;
  /** `maxValueBytes` of every cache. */
  readonly maxValueBytes?: number;
  /** Change capture of every routed document, relay options, and the specs the runtime lists. */
  readonly changeCapture?: RuntimeWiring["changeCapture"];
  readonly changeRelay?: RuntimeWiring["changeRelay"];
  readonly specs?: RuntimeWiring["specs"];
}

export interface System {
  readonly runtime: Runtime;
  /** The cache namespace: caches live on `<namespace>:<document>`. */
  readonly namespace: string;
  /** The private redis-server (`redis: "private"`). */
  readonly redisServer: RedisProcess | undefined;
  /** The Redis url the runtime's peers and raw clients use (direct, not proxied); undefined without Redis. */
  readonly redisUrl: string | undefined;
  readonly proxy: TcpProxy | undefined;
  /** The manual clock (`clock: "manual"`). */
  readonly clock: ManualClock | undefined;
  readonly random: () => number;
  /** A raw client on the system's Redis (made on first use, closed by `stop()`). */
  raw(): Redis;
  /** Another runtime on the same servers and namespace (direct, not proxied), stopped by `stop()`. */
  startPeer(overrides?: Partial<RuntimeWiring>): Promise<Runtime>;
  stop(): Promise<void>;
}

export async function buildSystem(options: SystemOptions): Promise<System> {
  const undo: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    const redisServer = options.redis === "private" ? await startRedis(options.redisServer) : undefined;
    if (redisServer) undo.push(() => redisServer.stop());
    const redisUrl = redisServer?.url ?? (typeof options.redis === "object" ? options.redis.url : undefined);
    const proxyTarget =
      options.proxy === "postgres" ? options.postgres : options.proxy === "redis" ? redisUrl : undefined;
    if (options.proxy !== undefined && (proxyTarget === undefined || proxyTarget === "pglite"))
      throw new Error(`proxy: "${options.proxy}" needs a server to stand in front of`);
    const proxy = proxyTarget === undefined ? undefined : await proxyTo(proxyTarget);
    if (proxy) undo.push(() => proxy.close());
    const clock = options.clock === "manual" ? new ManualClock(Date.now()) : options.clock;
    const namespace = options.namespace ?? `sys:${randomUUID().slice(0, 8)}`;
    const l2 = options.redis === "memory" ? "memory" : options.redis === "none" ? undefined : redisUrl;
    const wiring: RuntimeWiring = {
      databaseUrl: options.postgres,
      redis: l2,
      namespace,
      ...(options.documents ? { documents: options.documents } : {}),
      ...(clock ? { clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onQuery ? { onQuery: options.onQuery } : {}),
      ...(options.queryTimeoutMs !== undefined ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
      ...(options.refreshConcurrency !== undefined ? { refreshConcurrency: options.refreshConcurrency } : {}),
      ...(options.maxValueBytes !== undefined ? { maxValueBytes: options.maxValueBytes } : {}),
      ...(options.push ? { invalidationPush: true } : {}),
      ...(typeof options.push === "object" ? { pushTiming: options.push } : {}),
      ...(options.changeCapture ? { changeCapture: options.changeCapture } : {}),
      ...(options.changeRelay ? { changeRelay: options.changeRelay } : {}),
      ...(options.specs ? { specs: options.specs } : {}),
    };
    const runtime = await startRuntime({
      ...wiring,
      ...(options.redisTimeoutMs !== undefined ? { redisTimeoutMs: options.redisTimeoutMs } : {}),
      ...(proxy && options.proxy === "postgres" ? { databaseUrl: proxiedUrl(options.postgres, proxy) } : {}),
      ...(proxy && options.proxy === "redis" && redisUrl ? { redis: proxiedUrl(redisUrl, proxy) } : {}),
    });
    undo.push(() => runtime.stop());
    let raw: Redis | undefined;
    undo.splice(redisServer ? 1 : 0, 0, () => raw?.disconnect()); // closed after the runtimes, before the server
    return {
      runtime,
      namespace,
      redisServer,
      redisUrl,
      proxy,
      clock: clock instanceof ManualClock ? clock : undefined,
      random: seededRandom(options.seed ?? 1),
      raw() {
        if (redisUrl === undefined) throw new Error("this system has no Redis");
        raw ??= new Redis(redisUrl);
        return raw;
      },
      async startPeer(overrides = {}) {
        const peer = await startRuntime({ ...wiring, ...overrides });
        undo.push(() => peer.stop());
        return peer;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
