import type { Cluster, Redis } from "ioredis";
import { coordinationKey } from "../../l2/key-layout.js";
import { CommandDeadline } from "../../l2/redis/redis-commands.js";
import { unavailable } from "../../l2/redis/redis-unavailable.js";
import type { CoordinationStores } from "../cache-coordination.js";
import { FENCE_COUNTER_TTL_MS, type LockAcquireResult, type LockStore } from "../lock-store.js";
import type { RateLimitParams, RateLimitState } from "../rate-limit-model.js";
import type { RateLimitStore } from "../rate-limit-store.js";
import {
  LOCK_ACQUIRE_LUA,
  LOCK_EXTEND_LUA,
  LOCK_HELD_LUA,
  LOCK_RELEASE_LUA,
  RATE_LIMIT_LUA,
} from "./coordination-scripts.js";

interface CoordinationCommands {
  strataLockAcquire(
    lock: string,
    fence: string,
    owner: string,
    ttlMs: number,
    fenceTtlMs: number,
  ): Promise<[number, string | number]>;
  strataLockRelease(lock: string, owner: string): Promise<number>;
  strataLockExtend(lock: string, owner: string, ttlMs: number): Promise<number>;
  strataLockHeld(lock: string, owner: string): Promise<number>;
  strataRateLimit(
    key: string,
    algorithm: string,
    limit: number,
    windowMs: number,
    cost: number,
    now: number,
    consume: "1" | "0",
  ): Promise<Array<number | string>>;
}
type CoordinationClient = (Redis | Cluster) & CoordinationCommands;

function withScripts(client: Redis | Cluster): CoordinationClient {
  if (!("strataLockAcquire" in client)) {
    client.defineCommand("strataLockAcquire", { lua: LOCK_ACQUIRE_LUA, numberOfKeys: 2 });
    client.defineCommand("strataLockRelease", { lua: LOCK_RELEASE_LUA, numberOfKeys: 1 });
    client.defineCommand("strataLockExtend", { lua: LOCK_EXTEND_LUA, numberOfKeys: 1 });
    client.defineCommand("strataLockHeld", { lua: LOCK_HELD_LUA, numberOfKeys: 1 });
    client.defineCommand("strataRateLimit", { lua: RATE_LIMIT_LUA, numberOfKeys: 1 });
  }
  return client as CoordinationClient;
}

/**
 * Locks and rate limits on one Redis namespace: each operation one EVALSHA (ioredis reloads a script on NOSCRIPT)
 * on keys of one hash slot, so it works on a Cluster too. It is one Redis, not Redlock: a failover to a replica that
 * had not yet received a lock, or a restart without persistence, frees that lock (its holder is told, CacheLock).
 * Failures reject with UnavailableError.
 */
export class RedisCoordination implements CoordinationStores, LockStore, RateLimitStore {
  readonly #client: CoordinationClient;
  readonly #deadline: CommandDeadline;

  constructor(
    client: Redis | Cluster,
    private readonly namespace: string,
    timeoutMs: number,
  ) {
    this.#client = withScripts(client);
    this.#deadline = new CommandDeadline(client, timeoutMs);
  }

  get locks(): LockStore {
    return this;
  }

  get rateLimits(): RateLimitStore {
    return this;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<LockAcquireResult> {
    const [taken, value] = await this.#call(
      this.#client.strataLockAcquire(
        coordinationKey(this.namespace, "lock", key),
        coordinationKey(this.namespace, "fence", key),
        owner,
        ttlMs,
        Math.max(FENCE_COUNTER_TTL_MS, ttlMs),
      ),
      "lock acquire",
    );
    return taken === 1
      ? { acquired: true, fencingToken: Number(value) }
      : { acquired: false, remainingMs: Math.max(1, Number(value)) };
  }

  async release(key: string, owner: string): Promise<boolean> {
    const lock = coordinationKey(this.namespace, "lock", key);
    return (await this.#call(this.#client.strataLockRelease(lock, owner), "lock release")) === 1;
  }

  async extend(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const lock = coordinationKey(this.namespace, "lock", key);
    return (await this.#call(this.#client.strataLockExtend(lock, owner, ttlMs), "lock extend")) === 1;
  }

  async heldFor(key: string, owner: string): Promise<number> {
    const lock = coordinationKey(this.namespace, "lock", key);
    return Number(await this.#call(this.#client.strataLockHeld(lock, owner), "lock check"));
  }

  consume(key: string, params: RateLimitParams, now: number): Promise<RateLimitState> {
    return this.#rate(key, params, now, "1");
  }

  peek(key: string, params: RateLimitParams, now: number): Promise<RateLimitState> {
    return this.#rate(key, params, now, "0");
  }

  async #rate(key: string, params: RateLimitParams, now: number, consume: "1" | "0"): Promise<RateLimitState> {
    const reply = await this.#call(
      this.#client.strataRateLimit(
        coordinationKey(this.namespace, "rate", key),
        params.algorithm,
        params.limit,
        params.windowMs,
        params.cost,
        now,
        consume,
      ),
      "rate limit",
    );
    return { allowed: Number(reply[0]) === 1, state: reply.slice(1).map(Number) };
  }

  async #call<T>(promise: Promise<T>, operation: string): Promise<T> {
    try {
      return await this.#deadline.bound(promise, operation);
    } catch (error) {
      throw unavailable(operation, error);
    }
  }
}
