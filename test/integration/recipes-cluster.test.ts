/**
 * The cluster recipe, run for real (like a user would): it starts its own 3-master + 3-replica cluster on loopback,
 * shows push across slots and a failover absorbed, and throws on its own when either misbehaves; without
 * redis-server it exits 2 saying why.
 */
import { describe, expect, it } from "vitest";
import { runRecipe } from "../support/recipes.js";
import { integrationEnv } from "../support/services.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

describe("cluster recipe", () => {
  it.skipIf(env.skip)(
    "runs on real Postgres and a cluster it starts: push across slots, a failover absorbed, stats per node",
    async () => {
      const out = await runRecipe("cluster", { DATABASE_URL: env.postgres!.url });
      expect(out).toMatch(/^engines: Postgres at .*; Redis Cluster: a private 3-master \+ 3-replica cluster /m);
      expect(out).toMatch(/^replicas A and B: push armed on 6 nodes each$/m);
      expect(out).toMatch(/^B: 12 documents in L1, their entries on 3 masters/m);
      expect(out).toMatch(/^push across slots: A updated 12 documents; B's L1 dropped all of them/m);
      expect(out).toMatch(
        /^failover: node \d+ is master now; B ran \d+ getMany\(12\) meanwhile, 0 failed; push armed/m,
      );
      expect(out).toMatch(/^push after the failover: A updated 12 documents; B's L1 dropped all of them/m);
      expect(out).toMatch(/^B's push stats: state armed, /m);
      expect((out.match(/127\.0\.0\.1:\d+ (master|replica) armed \(\d+ inv\.\)/g) ?? []).length).toBe(12);
    },
    90_000,
  );

  it("exits with code 2, saying why, when redis-server cannot be found", async () => {
    const failure = await runRecipe("cluster", { REDIS_SERVER_BIN: "/nonexistent/redis-server" }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(
      /cannot run the cluster recipe: a Redis Cluster is needed: set REDIS_CLUSTER_NODES/,
    );
  }, 60_000);
});
