/**
 * Reads with a signal or bad read options never harm the process: an aborted signal rejects with AbortError before
 * anything is sent (also on an L1 hit, with skipCache, inside a transaction, for batches), a bad `signal` or an
 * unknown option is a ValidationError, and no work promise is ever left to reject unhandled. A process-level
 * `unhandledRejection` watcher fails the test where the old code would have crashed a server.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DocumentQuery, Runtime } from "../../src/index.js";
import { AbortError, ValidationError } from "../../src/index.js";
import { integrationEnv } from "../support/services.js";
import { productSpec, QueryCounter } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });

/** Lets pending rejections surface: Node reports an unhandled one after the microtask queue drains. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe.skipIf(env.skip)("reads with signals and read options", () => {
  const spec = productSpec({ ttl: "5m", l1: { ttl: "2s", capacity: 100 } }, "abortable");
  const counter = new QueryCounter();
  const unhandled: unknown[] = [];
  const watch = (reason: unknown) => void unhandled.push(reason);
  let system: System;
  let runtime: Runtime;
  let redis: Redis;
  let query: DocumentQuery<typeof spec>;
  let id: string;

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: { url: env.redisUrl! },
      documents: ["abortable"],
      onQuery: counter.onQuery,
    });
    ({ runtime } = system);
    redis = new Redis(env.redisUrl!);
    query = runtime.context().document.query(spec);
    id = (await runtime.context().document.command(spec).create({ name: "a", price: 1 })).id;
  });
  afterAll(async () => {
    await system?.stop();
    redis?.disconnect();
  });
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", watch);
  });
  afterEach(async () => {
    await settle();
    process.off("unhandledRejection", watch);
    expect(unhandled).toEqual([]);
  });

  const aborted = () => AbortSignal.abort(new Error("client went away"));

  /** Runs `read` and returns its rejection, asserting nothing was sent to Postgres. */
  async function refusedWithoutSql(read: () => Promise<unknown>): Promise<unknown> {
    counter.reset();
    const error = await read().then(
      () => new Error("resolved"),
      (e: unknown) => e,
    );
    await settle();
    expect(counter.statements).toEqual([]);
    return error;
  }

  it.each([
    ["get, skipCache", (q: DocumentQuery<typeof spec>) => q.get(id, { signal: aborted(), skipCache: true })],
    ["find, skipCache", (q: DocumentQuery<typeof spec>) => q.find(id, { signal: aborted(), skipCache: true })],
    ["getMany, skipCache", (q: DocumentQuery<typeof spec>) => q.getMany([id], { signal: aborted(), skipCache: true })],
    ["findMany, cached", (q: DocumentQuery<typeof spec>) => q.findMany([id], { signal: aborted() })],
    ["get, cached", (q: DocumentQuery<typeof spec>) => q.get(id, { signal: aborted() })],
  ])("%s with an aborted signal rejects with AbortError, sends nothing, crashes nothing", async (_name, read) => {
    query.stats(); // the same query port throughout
    const error = await refusedWithoutSql(() => read(query));
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe("ABORTED");
  });

  it("inside a transaction, every read with an aborted signal rejects with AbortError and crashes nothing", async () => {
    const errors = await runtime.transaction(async (tx) => {
      const q = tx.document.query(spec);
      return Promise.all([
        refusedWithoutSql(() => q.get(id, { signal: aborted() })),
        refusedWithoutSql(() => q.find(id, { signal: aborted() })),
        refusedWithoutSql(() => q.findMany([id, id], { signal: aborted() })),
      ]);
    });
    for (const error of errors) expect(error).toBeInstanceOf(AbortError);
  });

  it("an L1 hit does not ignore an aborted signal", async () => {
    const doc = await query.get(id);
    await runtime.settled();
    expect(query.peek(id)).toBe(doc); // held in L1
    await expect(query.get(id, { signal: aborted() })).rejects.toBeInstanceOf(AbortError);
    await expect(query.find(id, { signal: aborted() })).rejects.toBeInstanceOf(AbortError);
    await expect(query.getMany([id], { signal: aborted() })).rejects.toBeInstanceOf(AbortError);
    // A live signal still reads from L1.
    await expect(query.get(id, { signal: new AbortController().signal })).resolves.toBe(doc);
  });

  it.each([
    ["a string", { signal: "stop" }, ["options", "signal"]],
    ["a look-alike object", { signal: { aborted: true, reason: "x" } }, ["options", "signal"]],
    ["an AbortController", { signal: new AbortController() }, ["options", "signal"]],
    ["null", { signal: null }, ["options", "signal"]],
    ["a misspelled skipCache", { skipcache: true }, ["options", "skipcache"]],
    ["an unknown option", { timeout: 5 }, ["options", "timeout"]],
    ["a non-boolean skipCache", { skipCache: "yes" }, ["options", "skipCache"]],
    ["null options", null, ["options"]],
    ["an array as options", [], ["options"]],
  ])(
    "%s as read options is a ValidationError on every read, sends nothing, crashes nothing",
    async (_n, options, path) => {
      const bad = options as never;
      const reads = [
        () => query.get(id, bad),
        () => query.find(id, bad),
        () => query.getMany([id], bad),
        () => query.findMany([id], bad),
      ];
      for (const read of reads) {
        const error = await refusedWithoutSql(read);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).code).toBe("VALIDATION");
        expect((error as ValidationError).issues[0]?.path).toEqual(path);
      }
    },
  );

  it.each([
    ["a string", "abc"],
    ["undefined", undefined],
    ["a Set", new Set(["x"])],
  ])("%s as the ids of getMany/findMany is a ValidationError, not a TypeError", async (_n, ids) => {
    for (const read of [() => query.getMany(ids as never), () => query.findMany(ids as never)]) {
      const error = await refusedWithoutSql(read);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path).toEqual(["ids"]);
    }
  });

  it("an unknown option gets a did-you-mean hint", async () => {
    const error = await query.get(id, { skipcache: true } as never).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/did you mean skipCache\?/);
  });

  it("a server process (default unhandled-rejection handling) survives reads for clients that went away", async () => {
    const script = fileURLToPath(new URL("../support/abort-server.ts", import.meta.url));
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", script],
        {
          env: { ...process.env, ABORT_SERVER_DATABASE_URL: env.postgres!.url, ABORT_SERVER_REDIS_URL: env.redisUrl! },
          timeout: 60_000,
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).not.toMatch(/Unhandled|AbortError/);
    const [results, last] = run.stdout.trim().split("\n");
    expect(JSON.parse(results ?? "{}")).toEqual({
      skipCache: "ABORTED",
      skipCacheMany: "ABORTED",
      transaction: "ABORTED",
      notASignal: "VALIDATION",
    });
    expect(last).toBe("survived");
    expect(run.code).toBe(0);
  });

  it("a signal that fires while Postgres answers rejects that caller only; the late result is observed", async () => {
    const controller = new AbortController();
    const reading = query.get(id, { signal: controller.signal, skipCache: true });
    controller.abort();
    await expect(reading).rejects.toBeInstanceOf(AbortError);
    await expect(query.get(id, { skipCache: true })).resolves.toMatchObject({ id });
  });
});
