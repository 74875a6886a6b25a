/**
 * stratacache on ioredis 6, which speaks RESP3 by default: the whole library's `ioredis` is ioredis 6 here (the
 * `ioredis6` npm alias swapped in for this file only), so its own connections — the shared one from a url and the
 * push channel's, which must still be RESP2 — are ioredis 6, and so is the caller's client. Real servers throughout.
 */
import { Redis as Redis6 } from "ioredis6";
import { afterAll, describe, expect, it, vi } from "vitest";
import { readThroughAndPush } from "../support/client-scenario.js";
import { integrationEnv } from "../support/services.js";

vi.mock("ioredis", () => import("ioredis6"));

const env = await integrationEnv({ postgres: true, redis: true });

describe.skipIf(env.skip)("ioredis 6", () => {
  const clients: Redis6[] = [];
  const admin = env.skip ? undefined : new Redis6(env.redisUrl!);
  const entryCount = async (pattern: string) => (await admin!.keys(pattern)).length;
  afterAll(() => {
    for (const client of clients) client.disconnect();
    admin?.disconnect();
  });

  it("is what the library imports as ioredis in this file", async () => {
    const { Redis } = await import("ioredis");
    expect(Redis).toBe(Redis6);
  });

  it("runs read-through and push invalidation from a url (the library's own ioredis 6 connections)", async () => {
    await readThroughAndPush(env.postgres!.url, { url: env.redisUrl! }, entryCount);
  });

  it("runs them with the caller's own ioredis 6 client", async () => {
    const client = () => {
      const redis = new Redis6(env.redisUrl!);
      clients.push(redis);
      return redis;
    };
    await readThroughAndPush(env.postgres!.url, { client }, entryCount);
  });
});
