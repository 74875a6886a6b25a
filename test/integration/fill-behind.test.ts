/**
 * A miss answers before its fill lands (README "What it guarantees"), over real Postgres and Redis. The fill's reply
 * is held at a TCP proxy in front of Redis — armed when the read's SELECT goes out, so the read's own GET has
 * passed — which makes "the fill is still in flight" a fact, not a race: the read answers anyway; a second read of
 * the id joins it (no second SELECT); `runtime.settled()` and `runtime.stop()` wait for the fill. The fill itself is
 * sent after the turn (kernel/after-turn.ts): what the caller does next reaches Redis first (seen with MONITOR).
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "../support/eventually.js";
import { integrationEnv } from "../support/services.js";
import { entryKey, productSpec, QueryCounter } from "../support/strata.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, redis: true });

describe.skipIf(env.skip)("a miss answers before its fill lands", () => {
  const systems: System[] = [];
  afterEach(async () => {
    await Promise.all(systems.splice(0).map((system) => system.stop()));
  });

  async function setup() {
    const spec = productSpec({ ttl: "1m" });
    const counter = new QueryCounter();
    let armed = false;
    const system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      proxy: "redis",
      onQuery: (sql) => {
        counter.onQuery(sql);
        // The read's GET has been answered when its SELECT goes out: hold what Redis says from now on (the fill's).
        if (armed && /^\s*select\b/i.test(sql)) system.proxy!.holdReplies();
      },
    });
    systems.push(system);
    const id = (await system.runtime.context().document.command(spec).create({ name: "behind", price: 1 })).id;
    const query = system.runtime.context().document.query(spec);
    counter.reset();
    const arm = () => {
      armed = true;
    };
    return { system, spec, counter, id, query, arm };
  }

  it("answers while the fill's reply is held; a second read joins it; settled() waits for the fill", async () => {
    const { system, spec, counter, id, query, arm } = await setup();
    arm();
    let answered: unknown;
    void query.get(id).then((doc) => {
      answered = doc;
    });
    await waitUntil(() => answered !== undefined, { timeoutMs: 5_000, intervalMs: 2 });
    expect(answered).toMatchObject({ id, rev: 1, price: 1 });
    // The fill ran on the server; its reply is held at the proxy: the runtime has not seen it.
    await waitUntil(() => system.proxy!.heldReplies > 0, { timeoutMs: 5_000, intervalMs: 2 });
    expect(query.stats().source.fills).toBe(0);

    const collapsed = query.stats().source.collapsed;
    expect(await query.get(id)).toMatchObject({ rev: 1 }); // joins the read: its fill is still in flight
    expect(query.stats().source.collapsed).toBe(collapsed + 1);
    expect(counter.selects).toBe(1);

    let settled = false;
    void system.runtime.settled().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    system.proxy!.releaseReplies();
    await system.runtime.settled();
    expect(query.stats().source.fills).toBe(1);
    expect(await system.raw().exists(entryKey(system.namespace, spec, id))).toBe(1);
    const hits = query.stats().l2.hits;
    expect(await query.get(id)).toMatchObject({ rev: 1 }); // the flight is over: an L2 hit now
    expect(query.stats().l2.hits).toBe(hits + 1);
    expect(counter.selects).toBe(1);
  });

  for (const kind of ["get", "getMany"] as const) {
    it(`the fill goes out after the turn: the caller's next read reaches Redis before it (${kind})`, async () => {
      const { system, spec, id, query } = await setup();
      const other = (await system.runtime.context().document.command(spec).create({ name: "next", price: 2 })).id;
      await system.runtime.settled();
      // MONITOR lists the commands Redis runs, in the order it runs them.
      const monitor = await new Redis(system.redisUrl!).monitor();
      const ran: string[] = [];
      monitor.on("monitor", (_time: string, args: string[]) => ran.push(`${args[0]!.toLowerCase()} ${args[1] ?? ""}`));
      const read = (one: string) => (kind === "get" ? query.get(one) : query.getMany([one]));
      try {
        await read(id); // a miss: answers when Postgres does
        const next = read(other); // in the same turn, as a caller reading one thing after another does
        await next;
        await system.runtime.settled();
        const fill = /^evalsha |^eval /;
        await waitUntil(() => ran.filter((c) => fill.test(c)).length >= 2, {
          timeoutMs: 5_000,
          intervalMs: 2,
          message: "both fills reached Redis",
        });
        const nextRead = ran.findIndex((c) => /^m?get /.test(c) && c.endsWith(entryKey(system.namespace, spec, other)));
        expect(nextRead).toBeGreaterThanOrEqual(0);
        expect(ran.findIndex((c) => fill.test(c))).toBeGreaterThan(nextRead);
      } finally {
        monitor.disconnect();
      }
    });
  }

  it("a batch's answer is the caller's own: emptying it leaves what the batch's joiners read untouched", async () => {
    const { system, spec, counter, id, query, arm } = await setup();
    const other = (await system.runtime.context().document.command(spec).create({ name: "other", price: 2 })).id;
    counter.reset();
    arm();
    const docs = await query.getMany([id, other]); // answers with its fill held: the batch stays joinable
    await waitUntil(() => system.proxy!.heldReplies > 0, { timeoutMs: 5_000, intervalMs: 2 });
    docs.fill(undefined as never);
    docs.length = 0;
    const collapsed = query.stats().source.collapsed;
    expect(await query.get(other)).toMatchObject({ id: other, price: 2 }); // joins the batch in flight
    // A repeated id joins once.
    expect(await query.findMany([id, other, other])).toMatchObject([{ id }, { id: other }, { id: other }]);
    expect(query.stats().source.collapsed).toBe(collapsed + 3);
    expect(counter.selects).toBe(1);
    system.proxy!.releaseReplies();
    await system.runtime.settled();
  });

  it("stop() with a fill in flight: the fill still lands and is counted", async () => {
    const { system, id, query, arm } = await setup();
    arm();
    await query.get(id);
    await waitUntil(() => system.proxy!.heldReplies > 0, { timeoutMs: 5_000, intervalMs: 2 });
    const stats = query.stats();
    expect(stats.source.fills).toBe(0);
    const stopping = system.runtime.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(system.runtime.state).toBe("stopping");
    system.proxy!.releaseReplies();
    await stopping;
    expect(query.stats().source.fills).toBe(1);
  });
});
