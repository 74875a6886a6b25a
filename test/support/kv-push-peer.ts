/**
 * A cache API runtime (one cache `c` with L1 and push invalidation) in its own Node process, for the two-process
 * test of the key/value L1, speaking push-peers.ts' JSON-line protocol:
 *
 *   PUSH_PEER='{"redisUrl":…,"namespace":…}' node --import tsx test/support/kv-push-peer.ts
 *
 * Ops: get (→ value or null), l1Hits (→ the cache's L1 hit count), armed (→ whether push is armed), stop.
 */
import { createRuntime, redisModule, silentLogger } from "../../src/index.js";
import { servePeer } from "./peer-protocol.js";

const options = JSON.parse(process.env.PUSH_PEER ?? "{}") as { redisUrl: string; namespace: string };
const runtime = createRuntime({
  modules: [
    redisModule({
      url: options.redisUrl,
      caches: { c: { namespace: options.namespace, invalidationPush: true, l1: { ttl: "1h" } } },
    }),
  ],
  logger: silentLogger,
});
await runtime.start();
const cache = runtime.cache("c");

async function handle(op: string, args: { key?: string }): Promise<unknown> {
  switch (op) {
    case "get":
      return (await cache.get(args.key as string)) ?? null;
    case "l1Hits":
      return cache.stats().l1Hits;
    case "armed":
      return runtime.stats().caches.c?.push.state === "armed";
    default:
      throw new Error(`unknown op ${op}`);
  }
}

servePeer(handle, async () => {
  await runtime.stop();
});
