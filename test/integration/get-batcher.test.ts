/**
 * The L2 read batcher against a real Redis: a lone read is one GET, reads started while others are in flight share
 * one MGET, every caller gets its own key's value, and a failure reaches every caller of the batch.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetBatcher } from "../../src/l2/redis/get-batcher.js";
import { type RedisProcess, startRedis } from "../support/redis.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true, privateRedis: true });

describe.skipIf(env.skip)("GetBatcher", () => {
  let redis: RedisProcess;
  let client: Redis;
  let batcher: GetBatcher;

  const calls = async (command: string) =>
    Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await client.info("commandstats"))?.[1] ?? 0);

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    batcher = new GetBatcher((keys) =>
      keys.length === 1 ? client.get(keys[0]!).then((value) => [value]) : client.mget(keys),
    );
    for (let i = 0; i < 50; i++) await client.set(`k${i}`, `v${i}`);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it("sends a lone read at once, as a GET", async () => {
    await client.config("RESETSTAT");
    for (let i = 0; i < 5; i++) expect(await batcher.get(`k${i}`)).toBe(`v${i}`);
    expect(await calls("get")).toBe(5);
    expect(await calls("mget")).toBe(0);
  });

  it("coalesces reads started while one is in flight into one MGET, each caller getting its own value", async () => {
    await client.config("RESETSTAT");
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const values = await Promise.all([...keys, "absent", "k3"].map((key) => batcher.get(key)));
    expect(values).toEqual([...keys.map((key) => `v${key.slice(1)}`), null, "v3"]);
    expect(await calls("get")).toBe(1); // the first went alone
    expect(await calls("mget")).toBe(1); // the other 51 shared one
  });

  it("rejects every caller of a batch when the read fails, and recovers after", async () => {
    let fail = true;
    const failing = new GetBatcher((keys) => {
      if (fail) return Promise.reject(new Error("boom"));
      return client.mget(keys);
    });
    const results = await Promise.allSettled([failing.get("k1"), failing.get("k2"), failing.get("k3")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    fail = false;
    expect(await Promise.all([failing.get("k1"), failing.get("k2")])).toEqual(["v1", "v2"]);
  });

  it("with a lone-read function: a lone read is one GET through it, a burst still shares one MGET", async () => {
    const lone: string[] = [];
    const direct = new GetBatcher(
      (keys) => client.mget(keys),
      (key) => {
        lone.push(key);
        return key === "fail" ? Promise.reject(new Error("lone failed")) : client.get(key);
      },
    );
    await client.config("RESETSTAT");
    for (let i = 0; i < 3; i++) expect(await direct.get(`k${i}`)).toBe(`v${i}`);
    await expect(direct.get("fail")).rejects.toThrow("lone failed");
    // Its failure left nothing in flight: the next lone read goes alone again.
    expect(await direct.get("k4")).toBe("v4");
    expect(lone).toEqual(["k0", "k1", "k2", "fail", "k4"]);
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    expect(await Promise.all(keys.map((key) => direct.get(key)))).toEqual(keys.map((key) => `v${key.slice(1)}`));
    expect(lone).toHaveLength(6); // only the burst's first read went alone
    expect(await calls("get")).toBe(5);
    expect(await calls("mget")).toBe(1);
  });

  it("decodes every answer, lone or batched, and turns a lone failure into an answer through loneError", async () => {
    const decoded = new GetBatcher<string>(
      (keys) => client.mget(keys),
      (key) => (key === "fail" ? Promise.reject(new Error("lone failed")) : client.get(key)),
      (value) => `<${value}>`,
      (error) => `failed: ${(error as Error).message}`,
    );
    expect(await decoded.get("k1")).toBe("<v1>"); // lone: GET
    expect(await decoded.get("fail")).toBe("failed: lone failed");
    expect(await Promise.all(["k1", "k2", "absent"].map((key) => decoded.get(key)))).toEqual([
      "<v1>",
      "<v2>",
      "<null>",
    ]); // the first alone, the others one MGET: all decoded
    expect(await decoded.get("k3")).toBe("<v3>"); // nothing left in flight
  });

  it("rejects the batch when fetch throws synchronously", async () => {
    const throwing = new GetBatcher(() => {
      throw new Error("sync");
    });
    await expect(throwing.get("k1")).rejects.toThrow("sync");
    await expect(throwing.get("k2")).rejects.toThrow("sync"); // nothing left in flight
  });
});
