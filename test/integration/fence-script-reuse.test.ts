/**
 * Other scripts reuse the fence's `put` (fence-script.ts' FENCE_FUNCTION): the leased fill must keep every fence
 * rule, since `put` reads its own floor and entry. Run on the script text itself, with a real Redis.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEntry } from "../../src/l2/entry-envelope.js";
import { LEASED_FILL_LUA } from "../../src/l2/redis/lease-script.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ redis: true });
const FP = "0123456789ab";

describe.skipIf(env.skip)("the fence inside the leased fill", () => {
  let raw: Redis;
  const ns = `reuse:${Math.random()}`;
  const keys = (id: string) => [`${ns}:e{${id}}`, `${ns}|f{${id}}`, `${ns}|c{${id}}`, `${ns}|l{${id}}`];
  const fill = (id: string, rev: number) => {
    const entry = { incarnation: 1, rev, fetchedAt: 1, delta: 1, freshUntil: Date.now() + 60_000, body: "{}" };
    const args = [0, FP, 120_000, "token", encodeEntry(FP, entry), 60_000, 1, String(rev), entry.freshUntil];
    return raw.eval(LEASED_FILL_LUA, 4, ...keys(id), ...args) as Promise<number[]>;
  };
  beforeAll(() => {
    raw = new Redis(env.redisUrl!);
  });
  afterAll(async () => {
    const left = await raw.keys(`${ns}*`);
    if (left.length > 0) await raw.del(...left);
    raw.disconnect();
  });

  it("refuses a fill older than the version floor, and stores one with no floor or entry", async () => {
    const [entry, floor, , lease] = keys("a");
    await raw.set(floor!, "1|3", "PX", 60_000);
    await raw.set(lease!, "token", "PX", 60_000);
    expect(await fill("a", 2)).toEqual([0]);
    expect(await raw.exists(entry!)).toBe(0);
    await raw.set(lease!, "token", "PX", 60_000);
    expect(await fill("a", 3)).toEqual([1]);
    expect(await raw.get(entry!)).toMatch(/^s1\|0123456789ab\|1\|3\|/);
    // A newer entry keeps an older fill out too.
    await raw.set(lease!, "token", "PX", 60_000);
    expect(await fill("a", 2)).toEqual([0]);
  });
});
