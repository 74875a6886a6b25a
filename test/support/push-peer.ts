/**
 * A runtime in its own Node process, driven over stdin/stdout with JSON lines, for the two-process push tests:
 *
 *   PUSH_PEER='{"databaseUrl":…,"redisUrl":…,"namespace":…}' node --import tsx test/support/push-peer.ts
 *   → {"seq":1,"op":"create","args":{"name":"x","price":1}}   ← {"seq":1,"ok":true,"value":{"id":…,"rev":1}}
 *
 * Ops: create, update, delete, get (→ rev or null), peek (→ L1 rev or null), stats (→ push stats), stop.
 * It prints {"ready":true} once started.
 */

import { servePeer } from "./peer-protocol.js";
import { type PushRuntimeOptions, pushProducts, pushStats, pushWiring } from "./push-runtime.js";
import { startRuntime } from "./strata.js";

const options = JSON.parse(process.env.PUSH_PEER ?? "{}") as PushRuntimeOptions;
const runtime = await startRuntime(pushWiring(options));
const docs = runtime.context().document.command(pushProducts);
const query = runtime.context().document.query(pushProducts);

interface Request {
  readonly seq: number;
  readonly op: string;
  readonly args: { id?: string; rev?: number; name?: string; price?: number };
}

async function handle(op: string, args: Request["args"]): Promise<unknown> {
  switch (op) {
    case "create": {
      const doc = await docs.create({ name: args.name ?? "x", price: args.price ?? 0 });
      return { id: doc.id, rev: doc.rev };
    }
    case "update": {
      const doc = await docs.update(args.id as string, args.rev as number, { price: args.price ?? 0 });
      return { id: doc.id, rev: doc.rev };
    }
    case "delete":
      await docs.delete(args.id as string, args.rev);
      return null;
    case "get":
      return (await query.find(args.id as string))?.rev ?? null;
    case "peek":
      return query.peek(args.id as string)?.rev ?? null;
    case "stats":
      return pushStats(runtime);
    default:
      throw new Error(`unknown op ${op}`);
  }
}

servePeer(handle, async () => {
  await runtime.stop();
});
