/**
 * stratacache on ioredis 5 (its own connections, from a url): read-through and push invalidation with a url, with the
 * caller's ioredis 5 client, and with a client of another copy of ioredis (6, an npm alias) — recognised by shape,
 * never by `instanceof` (test/unit/client-shapes.test.ts has the refusals). The same scenario on ioredis 6 is
 * ioredis-6.test.ts.
 */
import { Redis } from "ioredis";
import { Redis as Redis6 } from "ioredis6";
import { afterAll, describe, it } from "vitest";
import { readThroughAndPush } from "../support/client-scenario.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, redis: true });

describe.skipIf(env.skip)("ioredis 5", () => {
  const clients: Array<{ disconnect(): void }> = [];
  const admin = env.skip ? undefined : new Redis(env.redisUrl!);
  const entryCount = async (pattern: string) => (await admin!.keys(pattern)).length;
  afterAll(() => {
    for (const client of clients) client.disconnect();
    admin?.disconnect();
  });

  it("runs read-through and push invalidation from a url", async () => {
    await readThroughAndPush(env.postgres!.url, { url: env.redisUrl! }, entryCount);
  });

  it("runs them with the caller's own ioredis 5 client", async () => {
    const client = () => {
      const redis = new Redis(env.redisUrl!);
      clients.push(redis);
      return redis;
    };
    await readThroughAndPush(env.postgres!.url, { client }, entryCount);
  });

  it("accepts a client of another copy of ioredis (6 here), and push still speaks RESP2 on it", async () => {
    const client = () => {
      const redis = new Redis6(env.redisUrl!);
      clients.push(redis);
      return redis;
    };
    await readThroughAndPush(env.postgres!.url, { client }, entryCount);
  });
});
