/**
 * A child process for test/integration/read-abort.test.ts: the reads a server makes for a client that has gone away
 * (an aborted signal), with Node's default handling of unhandled rejections — which kills the process. Prints one
 * JSON line with what each read rejected with, then "survived" after the event loop has had time to report any
 * unhandled rejection. Environment: ABORT_SERVER_DATABASE_URL, ABORT_SERVER_REDIS_URL.
 */
import { z } from "zod";
import { createRuntime, defineDocument, postgresModule, redisModule, silentLogger } from "../../src/index.js";

const spec = defineDocument({
  name: "abort_server",
  fields: z.object({ name: z.string() }),
  cache: { l1: { ttl: "1s", capacity: 16 } },
});
const runtime = createRuntime({
  modules: [
    postgresModule({ url: process.env.ABORT_SERVER_DATABASE_URL as string, documents: { abort_server: {} } }),
    redisModule({
      url: process.env.ABORT_SERVER_REDIS_URL as string,
      caches: { abort_server: { namespace: `abort:${process.pid}` } },
    }),
  ],
  logger: silentLogger,
});
await runtime.start();
const ctx = runtime.context();
const id = (await ctx.document.command(spec).create({ name: "a" })).id;
const gone = () => AbortSignal.abort(new Error("client disconnected"));
const outcome = (read: Promise<unknown>) =>
  read.then(
    () => "resolved",
    (error: unknown) => (error as { code?: string }).code ?? String(error),
  );
const query = ctx.document.query(spec);
const results = {
  skipCache: await outcome(query.get(id, { signal: gone(), skipCache: true })),
  skipCacheMany: await outcome(query.getMany([id], { signal: gone(), skipCache: true })),
  transaction: await outcome(runtime.transaction((tx) => tx.document.query(spec).get(id, { signal: gone() }))),
  notASignal: await outcome(query.get(id, { signal: "stop" as never })),
};
console.log(JSON.stringify(results));
await new Promise((resolve) => setTimeout(resolve, 200));
await runtime.stop();
console.log("survived");
