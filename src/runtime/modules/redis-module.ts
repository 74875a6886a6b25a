import type { Cluster } from "ioredis";
import { Redis } from "ioredis";
import { RedisCoordination } from "../../coordination/redis/redis-coordination.js";
import type { InvalidationChannel, PushTiming } from "../../invalidation/invalidation-channel.js";
import { DEFAULT_PUSH_TIMING } from "../../invalidation/invalidation-channel.js";
import { ClusterTrackingChannel } from "../../invalidation/redis/cluster-tracking-channel.js";
import { RedisTrackingChannel } from "../../invalidation/redis/redis-tracking-channel.js";
import {
  checkKnownKeys,
  checkNamespace,
  checkObject,
  checkPositiveInt,
  checkTimerDelay,
  MAX_TIMER_DELAY_MS,
} from "../../kernel/check-options.js";
import type { Duration } from "../../kernel/duration.js";
import { ConfigurationError } from "../../kernel/errors.js";
import { RateLimitedLog } from "../../kernel/rate-limited-log.js";
import { DeadlineRedis } from "../../l2/redis/deadline-redis.js";
import type { RedisCacheRoute } from "../../l2/redis/redis-cache-backend.js";
import { RedisCacheBackend } from "../../l2/redis/redis-cache-backend.js";
import { guardDatabase, redisUrlDatabase } from "../../l2/redis/redis-database-number.js";
import type { SealingOptions } from "../../sealing/sealing-options.js";
import { parseSealing } from "../../sealing/sealing-options.js";
import { checkCacheName } from "../../spec/cache-name.js";
import type { TenancyOption } from "../../tenancy/tenancy-options.js";
import { parseTenancy } from "../../tenancy/tenancy-options.js";
import type { CacheModule, ModuleEnv } from "../module.js";
import { type DataLocation, redisLocation } from "../route-conflicts.js";
import type { KvL1Options, KvLeaseOptions, KvRouteSettings } from "./kv-route-options.js";
import { checkKvRoute, KV_ROUTE_KEYS } from "./kv-route-options.js";

/** One cache route of redisModule. */
export interface RedisCacheOptions extends SealingOptions {
  /** Key prefix of this cache, e.g. `"app:products"`; two routes on one server may not overlap. */
  readonly namespace: string;
  /**
   * Drop L1 entries on every replica the moment Redis sees a write (CLIENT TRACKING, one extra connection), so
   * push latency rather than `l1.ttl` bounds L1 staleness. On a Cluster client, one such connection per node
   * (masters and replicas); under Sentinel, one to the current master, following failovers.
   * @default false
   */
  readonly invalidationPush?: boolean;
  /**
   * Largest value stored, in bytes once encoded: a bigger key/value set is a ValidationError (nothing written); a
   * bigger document body is not cached (served from Postgres, counted in `source.tooLarge`).
   * @default 1048576 (1 MiB)
   */
  readonly maxValueBytes?: number;
  /**
   * Default lifetime of the cache API's writes to this cache (`runtime.cache(name).set(…)` without a ttl).
   * @default "5m"
   */
  readonly ttl?: Duration;
  /**
   * Opt-in L1 of the cache API for this cache: reads are served in-process; with `invalidationPush`, a write by any
   * replica (or by hand) drops every copy.
   */
  readonly l1?: KvL1Options;
  /**
   * The distributed fill lease of the cache API's `getOrSet` (README "Fill leases"): on a miss one caller across
   * every replica runs the loader; the others wait for its fill (woken by push invalidation when `invalidationPush` is on, else by polling), at most `maxWait`, then serve grace data or
   * run the loader themselves. A call's `lease` option overrides it. Costs one script instead of a read on every
   * L2 lookup of getOrSet (none on an L1 hit).
   * @default false
   */
  readonly lease?: boolean | KvLeaseOptions;
  /**
   * How tenant contexts (`runtime.context({ tenant })`) are kept apart: `"tagged"`, a per-tenant `namespace`
   * resolver, or a `dedicated` Redis per tenant (see TenancyOption and README "Multi-tenant").
   * @default "tagged"
   */
  readonly tenancy?: TenancyOption;
}

/** Any function: the client's own signatures differ between ioredis majors and copies. */
type ClientMethod = (...args: never[]) => unknown;

/**
 * An ioredis `Redis` or `Cluster` client, of ioredis 5 or 6, from any copy of the package: recognised by the members
 * stratacache uses, never by `instanceof`, so a client built by your own `ioredis` fits.
 */
export interface RedisClientLike {
  /** True for a `Cluster`: keys are then grouped per hash slot. */
  readonly isCluster: boolean;
  /** ioredis `get`. */
  get: ClientMethod;
  /** ioredis `mget`. */
  mget: ClientMethod;
  /** ioredis `getBuffer` (raw bytes values). */
  getBuffer: ClientMethod;
  /** ioredis `mgetBuffer`. */
  mgetBuffer: ClientMethod;
  /** ioredis `set`. */
  set: ClientMethod;
  /** ioredis `del`. */
  del: ClientMethod;
  /** ioredis `exists`. */
  exists: ClientMethod;
  /** ioredis `multi`: a batch of writes to one hash slot in one round trip. */
  multi: ClientMethod;
  /** ioredis `defineCommand`: registers the fenced-write Lua scripts. */
  defineCommand: ClientMethod;
  /** ioredis `duplicate`: the push channel's own connection, from your client's settings. */
  duplicate: ClientMethod;
}

const CLIENT_METHODS = [
  "get",
  "mget",
  "getBuffer",
  "mgetBuffer",
  "set",
  "del",
  "exists",
  "multi",
  "defineCommand",
  "duplicate",
] as const satisfies ReadonlyArray<keyof RedisClientLike>;

/** Whether `value` has the shape of an ioredis client (see RedisClientLike). */
function isRedisClient(value: unknown): value is RedisClientLike {
  if (typeof value !== "object" || value === null) return false;
  const client = value as Record<string, unknown>;
  return typeof client.isCluster === "boolean" && CLIENT_METHODS.every((name) => typeof client[name] === "function");
}

/** A Redis Sentinel to ask for the current master (`redisModule({ sentinels, name })`). */
export interface SentinelAddress {
  /** Host name or IP of the sentinel. */
  readonly host: string;
  /** Its port (usually 26379). */
  readonly port: number;
}

/**
 * Options of redisModule: exactly one of `url`, `client`, or `sentinels` with `name`. Checked at once
 * (ConfigurationError naming the key).
 */
export interface RedisModuleOptions {
  /** `redis://…` or `rediss://…`: stratacache owns the connection and closes it on stop(). */
  readonly url?: string;
  /**
   * Your ioredis client, shared: never closed by stratacache. A `Cluster` must keep `scaleReads: "master"` (its
   * default): reads from a replica could fill L1 with a version older than this process's own last write. A client in
   * Sentinel mode (`sentinels` + `name` in its options) gets a push connection that follows the master.
   */
  readonly client?: RedisClientLike;
  /**
   * Sentinels to ask for the master named `name`: stratacache owns the connection and closes it on stop(). After a
   * failover the data connection reconnects to the new master (reads go to Postgres meanwhile), and so does the push
   * connection (with ioredis' `failoverDetector`, so a `+switch-master` is acted on at once): L1 is flushed and
   * bypassed in between.
   */
  readonly sentinels?: ReadonlyArray<SentinelAddress>;
  /** The master name the sentinels monitor (with `sentinels`). */
  readonly name?: string;
  /** Cache name (`CacheSpec.name`) → its route; at least one. */
  readonly caches: Readonly<Record<string, RedisCacheOptions>>;
  /**
   * Bound on every Redis call, in ms. A read that times out falls through to Postgres.
   * @default 250
   */
  readonly timeoutMs?: number;
  /** Timing of the push invalidation channel (used when a cache has `invalidationPush`); see PushTiming. */
  readonly invalidation?: Partial<PushTiming>;
}

const DEFAULT_TIMEOUT_MS = 250;

/**
 * Wires cache names to Redis namespaces. Options are validated now; the connection opens at `runtime.start()`.
 *
 * @example
 * ```ts
 * import { createRuntime, postgresModule, redisModule } from "stratacache";
 *
 * const runtime = createRuntime({
 *   modules: [
 *     postgresModule({ url: "postgres://postgres@127.0.0.1:5432/app", documents: { products: {} } }),
 *     redisModule({
 *       url: "redis://127.0.0.1:6379",
 *       caches: { products: { namespace: "app:products", invalidationPush: true } },
 *       timeoutMs: 100,
 *     }),
 *   ],
 * });
 * await runtime.start();
 * await runtime.stop();
 * ```
 */
export function redisModule(options: RedisModuleOptions): CacheModule {
  const opts = checkObject(options, "redisModule");
  checkKnownKeys(opts, ["url", "client", "sentinels", "name", "caches", "timeoutMs", "invalidation"], "redisModule");
  const hasUrl = opts.url !== undefined;
  const hasClient = opts.client !== undefined;
  const sentinel = checkSentinel(opts.sentinels, opts.name);
  if (Number(hasUrl) + Number(hasClient) + Number(sentinel !== undefined) !== 1) {
    throw new ConfigurationError("redisModule", "needs exactly one of url, client, or sentinels with name");
  }
  if (hasUrl && (typeof opts.url !== "string" || !/^rediss?:\/\//.test(opts.url))) {
    throw new ConfigurationError("redisModule.url", "must be a redis:// or rediss:// url");
  }
  if (hasClient && !isRedisClient(opts.client)) {
    throw new ConfigurationError(
      "redisModule.client",
      `must be an ioredis (5 or 6) Redis or Cluster client, with ${CLIENT_METHODS.join(", ")} and isCluster`,
    );
  }
  if (hasClient) checkScaleReads(opts.client as RedisClientLike);
  const database = hasUrl ? redisUrlDatabase(opts.url as string) : 0;
  const timeoutMs =
    opts.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : checkTimerDelay(opts.timeoutMs, "redisModule.timeoutMs");
  const routes = new Map<string, RedisCacheRoute>();
  const kvRoutes = new Map<string, KvRouteSettings>();
  const caches = checkObject(opts.caches, "redisModule.caches");
  for (const [name, value] of Object.entries(caches)) {
    const path = `redisModule.caches.${name}`;
    checkCacheName(name, path);
    const cache = checkObject(value, path);
    checkKnownKeys(
      cache,
      ["namespace", "invalidationPush", "maxValueBytes", "encryption", "compression", "tenancy", ...KV_ROUTE_KEYS],
      path,
    );
    kvRoutes.set(name, checkKvRoute(cache, path));
    const sealing = parseSealing(cache, path);
    const tenancy = parseTenancy(cache.tenancy, `${path}.tenancy`, true);
    const push = cache.invalidationPush ?? false;
    if (typeof push !== "boolean") throw new ConfigurationError(`${path}.invalidationPush`, "must be a boolean");
    const maxValueBytes =
      cache.maxValueBytes === undefined ? undefined : checkPositiveInt(cache.maxValueBytes, `${path}.maxValueBytes`);
    routes.set(name, {
      namespace: checkNamespace(cache.namespace, `${path}.namespace`),
      invalidationPush: push,
      tenancy,
      ...(maxValueBytes === undefined ? {} : { maxValueBytes }),
      ...(sealing === undefined ? {} : { sealing }),
    });
  }
  if (routes.size === 0) throw new ConfigurationError("redisModule.caches", "must route at least one cache");
  const timing = checkPushTiming(opts.invalidation);
  const pushPrefixes = [...routes.values()].filter((r) => r.invalidationPush).map((r) => `${r.namespace}:`);

  const owned = !hasClient;
  const location =
    sentinel === undefined ? redisModuleLocation(opts.url, opts.client, database) : sentinelLocation(sentinel);
  return {
    kind: "cache",
    names: [...routes.keys()],
    namespaces: [...routes].map(([cache, r]) => ({ module: "redisModule", location, cache, namespace: r.namespace })),
    kvRoutes,
    async open(env: ModuleEnv) {
      const client =
        (opts.client as Redis | Cluster | undefined) ??
        (sentinel === undefined ? connect(opts.url as string, timeoutMs) : connectSentinel(sentinel, timeoutMs));
      const shared = { prefixes: pushPrefixes, timing, random: () => env.clock.random(), now: () => env.clock.now() };
      let invalidation: InvalidationChannel | undefined;
      if (pushPrefixes.length > 0 && client.isCluster) {
        const cluster = client as Cluster;
        invalidation = new ClusterTrackingChannel({
          ...shared,
          cluster,
          connect: (node) => clusterTrackingConnection(cluster, node, timing),
          logger: env.logger,
        });
      } else if (pushPrefixes.length > 0) {
        const sentinelMode = isSentinelClient(client as Redis);
        invalidation = new RedisTrackingChannel({
          ...shared,
          connect: () => trackingConnection(opts.url as string | undefined, client as Redis, timing),
          ...(sentinelMode ? { role: "master" as const } : {}),
          logger: env.logger,
        });
      }
      const backend = new RedisCacheBackend(client, routes, owned, timeoutMs, env.logger, (url) => {
        const dedicated = connect(url, timeoutMs);
        // Connects on the tenant's first use. Commands sent during that first attempt wait for it (each still bounded
        // by commandTimeout), so the tenant's first write or fill is not refused for a connection still opening;
        // once the attempt ends either way, the client fails fast like the shared one (reads fall through to Postgres).
        dedicated.options.enableOfflineQueue = true;
        const failFast = () => {
          dedicated.options.enableOfflineQueue = false;
        };
        dedicated.once("ready", failFast);
        dedicated.once("error", failFast);
        dedicated.once("close", failFast);
        const log = new RateLimitedLog(env.logger, env.clock);
        dedicated.on("error", (error: Error) =>
          log.warn("dedicated", "redis connection error", { error: error.message }),
        );
        dedicated.connect().catch(() => {});
        return dedicated;
      });
      if (owned) {
        const checkDatabase = guardDatabase(client as Redis, database, env.logger);
        await firstConnect(client as Redis, timeoutMs, env);
        try {
          await checkDatabase();
        } catch (error) {
          await backend.close();
          throw error;
        }
      }
      const coordination = new Map(
        [...routes].map(([name, route]) => [name, new RedisCoordination(client, route.namespace, timeoutMs)] as const),
      );
      return { backend, invalidation, coordination: (name: string) => coordination.get(name) };
    },
  };
}

/** A url, or a client's own host/port/db options, name a place; a client without them is its own place. */
function redisModuleLocation(url: unknown, client: unknown, database: number): DataLocation {
  if (typeof url === "string") {
    const parsed = new URL(url);
    return redisLocation(parsed.hostname, parsed.port, database);
  }
  const options = (client as { options?: { host?: unknown; port?: unknown; db?: unknown } }).options;
  // A Cluster client's options carry no host: it stays its own place.
  if (typeof options?.host === "string") {
    const port = typeof options.port === "number" ? options.port : undefined;
    return redisLocation(options.host, port, typeof options.db === "number" ? options.db : 0);
  }
  return client as object;
}

/** `sentinels` and `name` together, or neither. */
function checkSentinel(sentinels: unknown, name: unknown): { sentinels: SentinelAddress[]; name: string } | undefined {
  if (sentinels === undefined && name === undefined) return undefined;
  if (!Array.isArray(sentinels) || sentinels.length === 0) {
    throw new ConfigurationError("redisModule.sentinels", "must be a non-empty array of { host, port } (with name)");
  }
  const checked = sentinels.map((value, i) => {
    const path = `redisModule.sentinels[${i}]`;
    const entry = checkObject(value, path);
    checkKnownKeys(entry, ["host", "port"], path);
    if (typeof entry.host !== "string" || entry.host === "") {
      throw new ConfigurationError(`${path}.host`, "must be a non-empty string");
    }
    const port = checkPositiveInt(entry.port, `${path}.port`);
    if (port > 65_535) throw new ConfigurationError(`${path}.port`, "must be a TCP port (1 to 65535)");
    return { host: entry.host, port };
  });
  if (typeof name !== "string" || name === "") {
    throw new ConfigurationError("redisModule.name", "must be the master name the sentinels monitor (with sentinels)");
  }
  return { sentinels: checked, name };
}

/**
 * A Cluster client must read from masters: a replica lags, so a fill read from it right after this process's own
 * write could put the previous version in L1 (read-your-writes broken), and a fence checked on the master would not
 * stop it. Refused rather than left undefined.
 */
function checkScaleReads(client: RedisClientLike): void {
  if (!client.isCluster) return;
  const scaleReads = (client as { options?: { scaleReads?: unknown } }).options?.scaleReads;
  if (scaleReads !== undefined && scaleReads !== "master") {
    throw new ConfigurationError(
      "redisModule.client",
      `a Cluster client with scaleReads ${typeof scaleReads === "string" ? `"${scaleReads}"` : "(a function)"} is ` +
        'refused: replicas lag their master, so reads from them break read-your-writes; use scaleReads: "master"',
    );
  }
}

function isSentinelClient(client: Redis): boolean {
  const sentinels = (client.options as { sentinels?: unknown }).sentinels;
  return Array.isArray(sentinels) && sentinels.length > 0;
}

/** Sentinel deployments are one place per monitored master name and sentinel set. */
function sentinelLocation(sentinel: { sentinels: SentinelAddress[]; name: string }): DataLocation {
  const set = sentinel.sentinels.map((s) => `${s.host.toLowerCase()}:${s.port}`).sort();
  return `redis-sentinel://${set.join(",")}/${sentinel.name}`;
}

function connectSentinel(sentinel: { sentinels: SentinelAddress[]; name: string }, timeoutMs: number): Redis {
  // No failoverDetector here: in ioredis 5.11 a `+switch-master` that arrives while the client is reconnecting
  // (its master just died) aborts that attempt and ends the client for good. A demoted master's clients are killed
  // by Sentinel anyway, so the data connection follows the switch through its own reconnects.
  return new DeadlineRedis(
    undefined,
    { sentinels: sentinel.sentinels.map((s) => ({ ...s })), name: sentinel.name, ...clientOptions(timeoutMs) },
    timeoutMs,
  );
}

function connect(url: string, timeoutMs: number): Redis {
  return new DeadlineRedis(url, clientOptions(timeoutMs), timeoutMs);
}

/** Our clients' options; their command timeout is DeadlineRedis' (ioredis' `commandTimeout`, on one timer). */
function clientOptions(timeoutMs: number) {
  return {
    lazyConnect: true,
    connectTimeout: Math.min(MAX_TIMER_DELAY_MS, Math.max(1_000, timeoutMs * 4)),
    // Fail fast while disconnected: a read should fall through to Postgres, not wait in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2_000),
  };
}

/**
 * The push channel's own connection (never the shared one: it enters subscriber mode). No ioredis reconnects or
 * resubscription: the channel reconnects itself, because a new connection needs the whole tracking handshake again.
 * RESP2 always: ioredis 6 speaks RESP3 by default, and the channel relies on RESP2's subscriber mode and on
 * invalidations arriving as `__redis__:invalidate` messages (ioredis 5 ignores the option and speaks RESP2).
 */
function trackingConnection(url: string | undefined, client: Redis, timing: PushTiming): Redis {
  const options = trackingOptions(timing);
  if (url !== undefined) return new Redis(url, options);
  // Sentinel mode: every attempt asks the sentinels for the master anew; failoverDetector closes the connection on
  // `+switch-master` at once instead of when the demoted master kills our client.
  // A duplicate is a plain Redis with the client's options: ours carry no commandTimeout (DeadlineRedis has its
  // own), so it is given back, as the tracking connection of a Sentinel client always had it.
  const inherited = client instanceof DeadlineRedis ? { ...options, commandTimeout: client.timeoutMs } : options;
  return client.duplicate(isSentinelClient(client) ? { ...inherited, failoverDetector: true } : inherited);
}

/** The tracking connection to one Cluster node: the cluster's own per-node options (auth, TLS), then ours. */
function clusterTrackingConnection(cluster: Cluster, node: { host: string; port: number }, timing: PushTiming): Redis {
  return new Redis({ ...cluster.options.redisOptions, host: node.host, port: node.port, ...trackingOptions(timing) });
}

function trackingOptions(timing: PushTiming) {
  return {
    protocol: 2,
    lazyConnect: true,
    connectTimeout: timing.heartbeatTimeoutMs,
    connectionName: "stratacache:invalidation",
    retryStrategy: () => null,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
    // It reads no data: a replica needs no READONLY.
    readOnly: false,
  };
}

function checkPushTiming(value: unknown): PushTiming {
  if (value === undefined) return DEFAULT_PUSH_TIMING;
  const path = "redisModule.invalidation";
  const opts = checkObject(value, path);
  const keys = Object.keys(DEFAULT_PUSH_TIMING) as Array<keyof PushTiming>;
  checkKnownKeys(opts, keys, path);
  const timing = { ...DEFAULT_PUSH_TIMING };
  for (const key of keys) {
    if (opts[key] !== undefined) timing[key] = checkTimerDelay(opts[key], `${path}.${key}`);
  }
  if (timing.reconnectMaxMs < timing.reconnectBaseMs) {
    throw new ConfigurationError(`${path}.reconnectMaxMs`, "must be at least reconnectBaseMs");
  }
  return timing;
}

/** Redis being down must not stop the runtime (reads fall through); say so loudly and keep reconnecting. */
async function firstConnect(client: Redis, timeoutMs: number, env: ModuleEnv): Promise<void> {
  // ioredis emits 'error' on every failed attempt; without a listener Node would print each one.
  // Once per 10 s at warn (with a count): an unreachable Redis must show, without a line per reconnect attempt.
  const log = new RateLimitedLog(env.logger, env.clock);
  client.on("error", (error: Error) => log.warn("connection", "redis connection error", { error: error.message }));
  try {
    await client.connect();
  } catch (error) {
    env.logger.warn("redis is unreachable at start; reads go to Postgres until it answers", {
      error: error instanceof Error ? error.message : String(error),
      timeoutMs,
    });
  }
}
