import type { Cluster, Redis } from "ioredis";
import { withTimeout } from "../../kernel/with-timeout.js";
import { DeadlineRedis } from "./deadline-redis.js";
import { FENCED_PUT_LUA, FENCED_PUT_MANY_LUA, SLIDING_READ_LUA } from "./fence-script.js";

/** The arguments of FENCED_PUT_LUA, in order (see fence-script.ts). */
export type FencedPutArgs = [
  key: string,
  floorKey: string,
  clockKey: string,
  envelope: string,
  ttlMs: number,
  fingerprint: string,
  incarnation: number,
  rev: string,
  freshUntil: number,
  slideMs: number,
  raiseFloor: "1" | "0",
  maxTtlMs: number,
];

/** Our Lua scripts, registered on the client (EVALSHA, with ioredis reloading a script on NOSCRIPT). */
interface StrataCommands {
  strataFencedPut(...args: FencedPutArgs): Promise<number>;
  /**
   * `numKeys` entry/floor keys per item (plus the clock when sliding), then the window, fingerprint, raise flag, max
   * ttl, the TTL shared by every item (or ""), and per item its envelope (and its TTL when none is shared); answers
   * the 1-based positions of the items kept out.
   */
  strataFencedPutMany(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number[]>;
  /** `numKeys` entry/clock keys, then the window. */
  strataSlidingRead(numKeys: number, ...keysThenWindow: Array<string | number>): Promise<Array<string | null>>;
}
export type FencedClient = (Redis | Cluster) & StrataCommands;

export function withFence(client: Redis | Cluster): FencedClient {
  if (!("strataFencedPut" in client)) {
    client.defineCommand("strataFencedPut", { lua: FENCED_PUT_LUA, numberOfKeys: 3 });
    client.defineCommand("strataFencedPutMany", { lua: FENCED_PUT_MANY_LUA });
    client.defineCommand("strataSlidingRead", { lua: SLIDING_READ_LUA });
  }
  return client as FencedClient;
}

/** Whether calls on this client need our own deadline: true when it has no `commandTimeout` of its own. */
export function lacksCommandTimeout(client: Redis | Cluster): boolean {
  if (client instanceof DeadlineRedis) return false; // ours: commandTimeout, on one timer
  const options = client.isCluster ? (client as Cluster).options.redisOptions : (client as Redis).options;
  return !options?.commandTimeout;
}

/**
 * Bounds a command on a client we did not create (ours are DeadlineRedis: ioredis' `commandTimeout`, on one timer). The command itself is not
 * cancelled; its late reply is ignored.
 */
export function boundCommand<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  // The message is built only when the deadline passes: this runs on every L2 hit of such a client.
  return withTimeout(promise, ms, () => {
    throw new Error(`redis ${operation} timed out after ${ms}ms`);
  });
}

/**
 * The deadline of one client's commands: a client we created has ioredis' `commandTimeout` and needs nothing more;
 * a client passed in gets boundCommand's. Decided once, so the L2 hit path pays one field check.
 */
export class CommandDeadline {
  readonly #ms: number | undefined;

  constructor(client: Redis | Cluster, ms: number) {
    this.#ms = lacksCommandTimeout(client) ? ms : undefined;
  }

  bound<T>(promise: Promise<T>, operation: string): Promise<T> {
    return this.#ms === undefined ? promise : boundCommand(promise, this.#ms, operation);
  }
}
