/**
 * The diagnostics channels, end to end on a private redis-server with push on: a subscriber to every channel sees
 * the documented events, in the documented order, for a scripted scenario — miss, fill, hit (L2 then L1), update,
 * a push invalidation from another replica, a Redis SIGKILL, the restart and re-arm. Each step waits for its
 * asynchronous events (push messages) before the next, so the whole sequence is deterministic.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  AbsorbedErrorEvent,
  CallEvent,
  FillEvent,
  HealthEvent,
  InvalidationEvent,
  InvalidationLagEvent,
  L1FlushEvent,
  PushEvent,
  ReadEvent,
  WriteEvent,
} from "../../src/index.js";
import { STRATACACHE_CHANNELS } from "../../src/index.js";
import { waitUntil } from "../support/eventually.js";
import { FAST_TIMING, pushProducts, waitForState } from "../support/push-runtime.js";
import { integrationEnv } from "../support/services.js";
import { buildSystem, type System } from "../support/system.js";

const env = await integrationEnv({ postgres: true, privateRedis: true });

/** Every channel, each event as one line: what the scenario is checked against. */
function describeEvent(name: string, event: unknown): string {
  const C = STRATACACHE_CHANNELS;
  switch (name) {
    case C.readStart:
      return `read.start ${(event as ReadEvent).document}`;
    case C.read: {
      const e = event as ReadEvent;
      return `read ${e.tier ?? "-"} ${e.outcome}${e.found ? "" : " not-found"}`;
    }
    case C.call: {
      const e = event as CallEvent;
      return `call ${e.dependency} ${e.operation}${e.error === undefined ? "" : " failed"}${e.read ? "" : " (no read)"}`;
    }
    case C.fill:
      return `fill ${(event as FillEvent).result}`;
    case C.write: {
      const e = event as WriteEvent;
      return `write ${e.kind} ${e.result}`;
    }
    case C.invalidate: {
      const e = event as InvalidationEvent;
      return `invalidate ${e.source}${e.dropped === undefined ? "" : e.dropped ? " dropped" : " absent"}`;
    }
    case C.invalidationLag:
      return `lag ${(event as InvalidationLagEvent).lagMs >= 0 ? "sampled" : "negative"}`;
    case C.l1Flush:
      return `l1.flush ${(event as L1FlushEvent).reason}`;
    case C.push:
      return `push ${(event as PushEvent).state}`;
    case C.error: {
      const e = event as AbsorbedErrorEvent;
      return `error ${e.dependency} ${e.operation}`;
    }
    case C.health: {
      const e = event as HealthEvent;
      return `health ${e.dependency} ${e.state}`;
    }
    default:
      throw new Error(`unexpected channel ${name}`);
  }
}

describe.skipIf(env.skip)("diagnostics channel events", () => {
  let system: System;
  const lines: string[] = [];
  const handlers: Array<[string, (message: unknown) => void]> = [];

  beforeAll(async () => {
    system = await buildSystem({
      postgres: env.postgres!.url,
      redis: "private",
      push: FAST_TIMING,
      redisTimeoutMs: 300,
    });
  });
  afterAll(async () => {
    for (const [name, fn] of handlers) diagnostics_channel.unsubscribe(name, fn);
    await system?.stop();
  });

  /**
   * Push invalidations arrive on the tracking connection, racing the reply of the write that caused them on another
   * connection: they are kept apart (`pushes`), and every other event is checked in strict order.
   */
  const pushes: string[] = [];
  const subscribe = () => {
    for (const name of Object.values(STRATACACHE_CHANNELS)) {
      const fn = (message: unknown) => {
        const line = describeEvent(name, message);
        (line.startsWith("invalidate push") ? pushes : lines).push(line);
      };
      diagnostics_channel.subscribe(name, fn);
      handlers.push([name, fn]);
    }
  };
  /** The lines since the last call. */
  let seen = 0;
  const step = () => {
    const from = seen;
    seen = lines.length;
    return lines.slice(from);
  };
  /** Waits for one push invalidation, and returns it. */
  const nextPush = async () => {
    await waitUntil(() => pushes.length > 0, { timeoutMs: 5_000, intervalMs: 2, message: "no push invalidation" });
    return pushes.shift();
  };

  it("publishes the documented events in order: miss, fill, hit, update, push, Redis kill, re-arm", async () => {
    const { runtime } = system;
    // A writer without push: its own events are published too (same process) but it receives no invalidations.
    const peer = await system.startPeer({ invalidationPush: false });
    const created = await peer.context().document.command(pushProducts).create({ name: "a", price: 1 });
    const query = runtime.context().document.query(pushProducts);
    subscribe();

    // Miss: L2 GET misses, Postgres answers (the read ends), then the fenced fill lands behind it; the fill's own SET
    // comes back as a push.
    await query.get(created.id);
    await runtime.settled();
    expect(step()).toEqual([
      "read.start products",
      "call redis GET",
      "call postgres SELECT",
      "read postgres miss",
      "call redis EVALSHA", // the fill, attached to its read (it lands after the read answered)
      "fill stored",
    ]);
    expect(await nextPush()).toMatch(/^invalidate push (dropped|absent)$/); // before or after the fill reached L1

    // Hit: L2 (its lag sample: the fill's push), then L1 (no start, no calls).
    await query.get(created.id);
    await query.get(created.id);
    expect(step()).toEqual(["read.start products", "call redis GET", "lag sampled", "read l2 hit", "read l1 hit"]);

    // Update on this runtime: write-through, local invalidation, then the write-through's own push (L1 already empty).
    const doc = await query.get(created.id);
    step(); // the L1 hit above
    await runtime.context().document.command(pushProducts).update(created.id, doc.rev, { price: 2 });
    expect(step()).toEqual(["call redis EVALSHA (no read)", "write update stored", "invalidate local"]);
    expect(await nextPush()).toMatch(/^invalidate push (dropped|absent)$/); // it may overtake the local drop

    // Push from another replica: warm L1 here, the peer updates, the push drops our entry; the next read samples lag.
    await query.get(created.id);
    await query.get(created.id);
    expect(step()).toEqual(["read.start products", "call redis GET", "lag sampled", "read l2 hit", "read l1 hit"]);
    await peer.context().document.command(pushProducts).update(created.id, 2, { price: 3 });
    expect(step()).toEqual(["call redis EVALSHA (no read)", "write update stored", "invalidate local"]);
    expect(await nextPush()).toBe("invalidate push dropped");
    expect((await query.get(created.id)).price).toBe(3);
    expect(step()).toEqual(["read.start products", "call redis GET", "lag sampled", "read l2 hit"]);

    // Redis SIGKILL: the channel disarms (L1 flushed, push down); reads fall through to Postgres (Redis degraded).
    await system.redisServer!.kill();
    await waitForState(runtime, "disarmed", 3_000);
    expect(step()).toEqual(["l1.flush disarm", "push disarmed", "health push down"]);
    expect((await query.get(created.id)).price).toBe(3);
    expect(step()).toEqual([
      "read.start products",
      "call redis GET failed",
      "health redis degraded",
      "error redis read",
      "call postgres SELECT",
      "read postgres miss",
    ]);

    // Restart: re-armed (fills begun while disarmed voided), push ok; Redis is ok again by its probe (a ping per
    // second while not ok), before any read reaches it.
    await system.redisServer!.restart();
    await waitForState(runtime, "armed", 3_000);
    await waitUntil(() => runtime.health().dependencies.redis?.state === "ok", {
      timeoutMs: 5_000,
      intervalMs: 10,
      message: "Redis never recovered",
    });
    expect(step().sort()).toEqual(["health push ok", "health redis ok", "l1.flush rearm", "push armed"]);
    expect(lines.indexOf("l1.flush rearm")).toBeLessThan(lines.indexOf("push armed"));
    await query.get(created.id);
    await runtime.settled();
    expect(step()).toEqual([
      "read.start products",
      "call redis GET",
      "call postgres SELECT",
      "read postgres miss",
      "call redis EVALSHA", // the fill, attached to its read (it lands after the read answered)
      "fill stored",
    ]);
    expect(runtime.stats().documents.products?.coherence.invalidationLag.samples).toBe(3);
  });
});
