/**
 * A cache API runtime whose cache `c` leases getOrSet, in its own Node process, for the cross-process lease tests
 * (push-peers.ts' JSON-line protocol):
 *
 *   PUSH_PEER='{"redisUrl":…,"namespace":…,"push":true,"lease":{…}}' node --import tsx test/support/kv-lease-peer.ts
 *
 * Ops: getOrSet { key, n, label, gated } (n concurrent calls whose loader returns `label`, after `loaderMs` or, when
 * gated, once `open` is called; → the values), loads (→ loader runs since the last call), started (→ loader runs
 * begun so far), open (lets gated loaders finish), set { key, value }, get { key }, stats, stop.
 */
import type { KvLeaseOptions } from "../../src/index.js";
import { createRuntime, redisModule, silentLogger } from "../../src/index.js";
import { servePeer } from "./peer-protocol.js";

const options = JSON.parse(process.env.PUSH_PEER ?? "{}") as {
  redisUrl: string;
  namespace: string;
  push: boolean;
  lease: KvLeaseOptions;
  loaderMs: number;
};
const runtime = createRuntime({
  modules: [
    redisModule({
      url: options.redisUrl,
      timeoutMs: 10_000,
      caches: { c: { namespace: options.namespace, invalidationPush: options.push, lease: options.lease } },
    }),
  ],
  logger: silentLogger,
});
await runtime.start();
const cache = runtime.cache("c");
let loads = 0;
let started = 0;
let open: () => void = () => {};
let gate = new Promise<void>((resolve) => {
  open = resolve;
});

interface Args {
  key: string;
  n?: number;
  label?: string;
  gated?: boolean;
  value?: string;
}

async function handle(op: string, args: Args): Promise<unknown> {
  switch (op) {
    case "getOrSet": {
      const loader = async () => {
        started++;
        if (args.gated) await gate;
        else await new Promise((resolve) => setTimeout(resolve, options.loaderMs));
        loads++;
        return args.label;
      };
      return Promise.all(Array.from({ length: args.n ?? 1 }, () => cache.getOrSet(args.key, loader)));
    }
    case "loads": {
      const n = loads;
      loads = 0;
      return n;
    }
    case "started":
      return started;
    case "open":
      open();
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      return null;
    case "set":
      await cache.set(args.key, args.value as string);
      return null;
    case "get":
      return (await cache.get(args.key)) ?? null;
    case "stats":
      return cache.stats();
    default:
      throw new Error(`unknown op ${op}`);
  }
}

servePeer(handle, async () => {
  await runtime.stop();
});
