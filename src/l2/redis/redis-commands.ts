import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { DeadlineQueue } from "../../kernel/deadline-queue.js";
import { DeadlineRedis } from "./deadline-redis.js";
import { FENCED_PUT_LUA, FENCED_PUT_MANY_LUA, SLIDING_READ_LUA } from "./fence-script.js";

/**
 * The keys and arguments of FENCED_PUT_LUA after its key count (see fence-script.ts): entry and floor keys (the idle
 * clock too when sliding), then the envelope, ttl, fingerprint, raise flag, max ttl and window (incarnation and rev
 * after them only to clear).
 */
export type FencedPutArgs = Array<string | number>;

const FENCED_PUT_SHA = createHash("sha1").update(FENCED_PUT_LUA).digest("hex");

/**
 * One FENCED_PUT_LUA call (`numKeys`: 2, or 3 with the idle clock) as a plain EVALSHA, the script itself sent (EVAL)
 * only after a NOSCRIPT — a flushed script cache, a new server. Not an ioredis `defineCommand`, which on every call
 * copies the arguments and wraps the command in a closure and a set lookup (~3 µs of Node CPU a call in an isolated
 * loop; within the noise of a whole miss); the reload rule is the same.
 */
export function fencedPut(client: Redis | Cluster, numKeys: number, keysThenArgs: FencedPutArgs): Promise<number> {
  return (client.evalsha(FENCED_PUT_SHA, numKeys, ...keysThenArgs) as Promise<number>).catch((error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return client.eval(FENCED_PUT_LUA, numKeys, ...keysThenArgs) as Promise<number>;
  });
}

/** Our other Lua scripts, registered on the client (EVALSHA, with ioredis reloading a script on NOSCRIPT). */
interface StrataCommands {
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
  if (!("strataFencedPutMany" in client)) {
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

/** A command bounded by CommandDeadline: settled by its reply, or by its deadline (then its late reply is ignored). */
class Bounded {
  settled = false;
  constructor(
    readonly reject: (error: Error) => void,
    readonly operation: string,
  ) {}
}

/**
 * The deadline of one client's commands: a client we created (DeadlineRedis) has ioredis' `commandTimeout` and needs
 * nothing more; a client passed in without one gets ours, `redis <operation> timed out after <ms>ms`. Decided once, so
 * the L2 hit path pays one field check. Every command gets the same timeout, so their deadlines are in call order:
 * one DeadlineQueue, one timer, rather than a timer per call. The command itself is not cancelled.
 */
export class CommandDeadline {
  readonly #deadlines: DeadlineQueue<Bounded> | undefined;

  constructor(client: Redis | Cluster, ms: number) {
    this.#deadlines = lacksCommandTimeout(client)
      ? new DeadlineQueue<Bounded>(ms, isSettled, (bounded) => {
          bounded.settled = true;
          bounded.reject(new Error(`redis ${bounded.operation} timed out after ${ms}ms`));
        })
      : undefined;
  }

  bound<T>(promise: Promise<T>, operation: string): Promise<T> {
    const deadlines = this.#deadlines;
    if (deadlines === undefined) return promise;
    return new Promise<T>((resolve, reject) => {
      const bounded = new Bounded(reject, operation);
      deadlines.add(bounded);
      promise.then(
        (value) => {
          bounded.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          bounded.settled = true;
          reject(error);
        },
      );
    });
  }
}

function isSettled(bounded: Bounded): boolean {
  return bounded.settled;
}
