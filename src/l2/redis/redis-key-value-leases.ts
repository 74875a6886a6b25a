import type { LeaseState } from "../entry-lease.js";
import type { KeyValueLeases, KvLeaseRead } from "../key-value-lease.js";
import type { EntryWrite } from "../key-value-store.js";
import { parseKvEnvelope } from "../kv-envelope.js";
import type { LeaseClient } from "./redis-entry-leases.js";

const STATES: ReadonlyArray<LeaseState> = ["fresh", "granted", "held", "absent"];

/** What RedisKeyValueStore lends its leases: its client, key names, and its bounded script calls. */
export interface KvLeaseHost {
  readonly client: LeaseClient & {
    strataKvReadOrLeaseBuffer(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<unknown[]>;
  };
  readonly generationKey: string;
  readonly tagPrefix: string;
  entryKey(key: string): string;
  leaseKey(key: string): string;
  /** A leased write (KV_WRITE_LUA mode "fill"): 1 written, -1 lost. */
  write(entry: EntryWrite, mode: "fill", token: string): Promise<number>;
  call<T>(promise: Promise<T>, operation: string): Promise<T>;
}

/**
 * Fill leases of the cache API on Redis (key-value-lease.ts): KV_READ_OR_LEASE_LUA reads and leases in one script
 * (standalone servers: like the other cache API scripts it composes tag-version keys, see kv-scripts.ts); renewal,
 * release and try-only leases are the document leases' scripts (lease-script.ts), since a lease is a lease.
 */
export class RedisKeyValueLeases implements KeyValueLeases {
  constructor(private readonly host: KvLeaseHost) {}

  async readOrLease(
    keys: ReadonlyArray<string>,
    tokens: ReadonlyArray<string>,
    leaseMs: number,
    now: number,
  ): Promise<KvLeaseRead[]> {
    if (keys.length === 0) return [];
    const host = this.host;
    const redisKeys = [host.generationKey];
    for (const key of keys) redisKeys.push(host.entryKey(key), host.leaseKey(key));
    const reply = await host.call(
      host.client.strataKvReadOrLeaseBuffer(
        redisKeys.length,
        ...redisKeys,
        host.tagPrefix,
        Math.max(1, Math.ceil(leaseMs)),
        Math.floor(now),
        ...tokens,
      ),
      "READ OR LEASE (script)",
    );
    return keys.map((_, i) => {
      const raw = reply[i * 2];
      return {
        entry: Buffer.isBuffer(raw) ? parseKvEnvelope(raw) : undefined,
        state: STATES[Number(reply[i * 2 + 1])] ?? "held",
      };
    });
  }

  async fill(entry: EntryWrite, token: string): Promise<"stored" | "lost"> {
    return (await this.host.write(entry, "fill", token)) === 1 ? "stored" : "lost";
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const call = this.host.client.strataRenewLease(1, this.host.leaseKey(key), token, Math.max(1, Math.ceil(leaseMs)));
    return (await this.host.call(call, "RENEW LEASE (script)")) === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await this.host.call(
      this.host.client.strataReleaseLease(1, this.host.leaseKey(key), token),
      "RELEASE LEASE (script)",
    );
  }

  async markAbsent(key: string, token: string, leaseMs: number): Promise<void> {
    const call = this.host.client.strataMarkAbsent(1, this.host.leaseKey(key), token, Math.max(1, Math.ceil(leaseMs)));
    await this.host.call(call, "MARK ABSENT (script)");
  }

  async tryLease(key: string, token: string, leaseMs: number): Promise<boolean> {
    const call = this.host.client.strataTryLease(1, this.host.leaseKey(key), token, Math.max(1, Math.ceil(leaseMs)));
    return (await this.host.call(call, "TRY LEASE (script)"))[0] === 1;
  }
}
