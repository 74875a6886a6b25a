import type { Cluster, Redis } from "ioredis";
import type { EntryPut, EntryRead } from "../document-entry.js";
import { decodeEntry, encodeEntry } from "../entry-envelope.js";
import type { EntryLeases, LeasedPutResult, LeaseRead, LeaseState } from "../entry-lease.js";
import { idKey } from "../key-layout.js";
import { groupBySlot } from "./hash-slot.js";
import {
  LEASED_FILL_LUA,
  MARK_ABSENT_LUA,
  READ_OR_LEASE_LUA,
  RELEASE_LEASE_LUA,
  RENEW_LEASE_LUA,
  TRY_LEASE_LUA,
} from "./lease-script.js";
import { CommandDeadline } from "./redis-commands.js";

/** The lease scripts, registered on the client (EVALSHA, reloaded by ioredis on NOSCRIPT). */
export interface LeaseCommands {
  strataReadOrLease(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<Array<string | number | null>>;
  strataLeasedFill(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number[]>;
  strataRenewLease(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>;
  strataReleaseLease(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>;
  strataTryLease(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number[]>;
  strataMarkAbsent(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>;
}
export type LeaseClient = (Redis | Cluster) & LeaseCommands;

/** The client with the lease scripts defined (once per client). */
export function withLeaseScripts(client: Redis | Cluster): LeaseClient {
  if (!("strataReadOrLease" in client)) {
    client.defineCommand("strataReadOrLease", { lua: READ_OR_LEASE_LUA });
    client.defineCommand("strataLeasedFill", { lua: LEASED_FILL_LUA });
    client.defineCommand("strataRenewLease", { lua: RENEW_LEASE_LUA });
    client.defineCommand("strataReleaseLease", { lua: RELEASE_LEASE_LUA });
    client.defineCommand("strataTryLease", { lua: TRY_LEASE_LUA });
    client.defineCommand("strataMarkAbsent", { lua: MARK_ABSENT_LUA });
  }
  return client as LeaseClient;
}

const STATES: ReadonlyArray<LeaseState> = ["fresh", "granted", "held", "absent"];

/** Fill leases of one document in one Redis namespace (lease-script.ts); keys from key-layout.ts. */
export class RedisEntryLeases implements EntryLeases {
  readonly #client: LeaseClient;
  readonly #cluster: boolean;
  readonly #deadline: CommandDeadline;

  constructor(
    client: Redis | Cluster,
    private readonly prefix: string,
    private readonly clockPrefix: string,
    private readonly floorPrefix: string,
    private readonly leasePrefix: string,
    private readonly fingerprint: string,
    timeoutMs: number,
    /** As RedisEntryStore's: the longest PX this document ever writes. */
    private readonly maxTtlMs = 0,
  ) {
    this.#client = withLeaseScripts(client);
    this.#cluster = client.isCluster;
    this.#deadline = new CommandDeadline(client, timeoutMs);
  }

  leaseKey(id: string): string {
    return idKey(this.leasePrefix, id);
  }

  async readOrLease(
    ids: ReadonlyArray<string>,
    tokens: string | ReadonlyArray<string>,
    leaseMs: number,
    now: number,
    slideMs = 0,
  ): Promise<LeaseRead[]> {
    const out = new Array<LeaseRead>(ids.length);
    const ms = Math.max(1, Math.ceil(leaseMs));
    await Promise.all(
      this.#slots(ids).map(async (group) => {
        const keys: string[] = [];
        const owners: string[] = [];
        for (const i of group) {
          const id = ids[i]!;
          keys.push(idKey(this.prefix, id), idKey(this.clockPrefix, id), this.leaseKey(id));
          owners.push(typeof tokens === "string" ? tokens : tokens[i]!);
        }
        const call = this.#client.strataReadOrLease(keys.length, ...keys, ms, Math.floor(now), slideMs, ...owners);
        const reply = await this.#bound(call, "read or lease");
        group.forEach((index, j) => {
          const raw = reply[j * 2];
          const read: EntryRead = typeof raw === "string" ? decodeEntry(this.fingerprint, raw) : "miss";
          out[index] = { read, state: STATES[Number(reply[j * 2 + 1])] ?? "held" };
        });
      }),
    );
    return out;
  }

  async fill(items: ReadonlyArray<EntryPut>, token: string, slideMs = 0): Promise<LeasedPutResult[]> {
    const out = new Array<LeasedPutResult>(items.length);
    await Promise.all(
      this.#slots(items.map((item) => item.id)).map(async (group) => {
        const keys: string[] = [];
        const args: Array<string | number> = [slideMs, this.fingerprint, this.maxTtlMs, token];
        for (const i of group) {
          const { id, entry, ttlMs } = items[i]!;
          keys.push(
            idKey(this.prefix, id),
            idKey(this.floorPrefix, id),
            idKey(this.clockPrefix, id),
            this.leaseKey(id),
          );
          args.push(
            encodeEntry(this.fingerprint, entry),
            Math.max(1, Math.ceil(ttlMs)),
            entry.incarnation,
            String(entry.rev),
            entry.freshUntil,
          );
        }
        const replies = await this.#bound(this.#client.strataLeasedFill(keys.length, ...keys, ...args), "leased fill");
        group.forEach((index, j) => {
          const reply = replies[j];
          out[index] = reply === 1 ? "stored" : reply === 0 ? "rejected" : "lost";
        });
      }),
    );
    return out;
  }

  async renew(id: string, token: string, leaseMs: number): Promise<boolean> {
    const call = this.#client.strataRenewLease(1, this.leaseKey(id), token, Math.max(1, Math.ceil(leaseMs)));
    return (await this.#bound(call, "renew lease")) === 1;
  }

  async release(ids: ReadonlyArray<string>, token: string): Promise<void> {
    await Promise.all(
      this.#slots(ids).map((group) => {
        const keys = group.map((i) => this.leaseKey(ids[i]!));
        return this.#bound(this.#client.strataReleaseLease(keys.length, ...keys, token), "release lease");
      }),
    );
  }

  async markAbsent(ids: ReadonlyArray<string>, token: string, leaseMs: number): Promise<void> {
    const ms = Math.max(1, Math.ceil(leaseMs));
    await Promise.all(
      this.#slots(ids).map((group) => {
        const keys = group.map((i) => this.leaseKey(ids[i]!));
        return this.#bound(this.#client.strataMarkAbsent(keys.length, ...keys, token, ms), "mark absent");
      }),
    );
  }

  async tryLease(ids: ReadonlyArray<string>, token: string, leaseMs: number): Promise<boolean[]> {
    const out = new Array<boolean>(ids.length);
    const ms = Math.max(1, Math.ceil(leaseMs));
    await Promise.all(
      this.#slots(ids).map(async (group) => {
        const keys = group.map((i) => this.leaseKey(ids[i]!));
        const replies = await this.#bound(this.#client.strataTryLease(keys.length, ...keys, token, ms), "try lease");
        group.forEach((index, j) => {
          out[index] = replies[j] === 1;
        });
      }),
    );
    return out;
  }

  async voidLease(id: string): Promise<void> {
    await this.#bound(this.#client.del(this.leaseKey(id)), "void lease");
  }

  /** Indices of `ids` per hash slot (the entry, floor, clock and lease of an id share its slot). */
  #slots(ids: ReadonlyArray<string>): Array<number[]> {
    return groupBySlot(
      ids.map((id) => this.leaseKey(id)),
      this.#cluster,
    );
  }

  #bound<T>(promise: Promise<T>, operation: string): Promise<T> {
    return this.#deadline.bound(promise, operation);
  }
}
