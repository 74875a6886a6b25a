/**
 * DeadlineRedis, the client stratacache creates: ioredis' commandTimeout on one timer per connection. Against a
 * frozen server (SIGSTOP), a command rejects as ioredis' own timeout rejects it, and pending commands do not each
 * hold a timer.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeadlineRedis } from "../../src/l2/redis/deadline-redis.js";
import { CommandDeadline } from "../../src/l2/redis/redis-commands.js";
import { type RedisProcess, redisServerVersion, startRedis } from "../support/redis.js";
import { servicesUnavailable } from "../support/services.js";

const redisVersion = await redisServerVersion();
if (!redisVersion) servicesUnavailable("deadline-redis: private redis-server tests", "redis-server is not on PATH");

const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null } as const;

/** Ref'd timers alive now (what a per-command ioredis commandTimeout adds one of per pending command). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => error,
  );
}

describe.skipIf(!redisVersion)("DeadlineRedis", () => {
  let server: RedisProcess;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.resume();
    await server?.stop();
  });

  async function connected<T extends Redis>(client: T): Promise<T> {
    client.on("error", () => {});
    clients.push(client);
    await client.connect();
    return client;
  }

  it("rejects what a frozen server leaves unanswered exactly as ioredis' commandTimeout does, then answers again", async () => {
    const ours = await connected(new DeadlineRedis(server.url, options, 150));
    const theirs = await connected(new Redis(server.url, { ...options, lazyConnect: true, commandTimeout: 150 }));
    await ours.set("deadline:k", "v");
    expect(ours.options.commandTimeout).toBeUndefined(); // no timer per command from ioredis
    await server.pause();
    let errors: unknown[];
    try {
      errors = await Promise.all([
        outcome(ours.get("deadline:k")),
        outcome(ours.eval("return 1", 0)),
        outcome(theirs.get("deadline:k")),
      ]);
    } finally {
      await server.resume();
    }
    const [get, script, reference] = errors as [Error, Error, Error];
    expect(reference).toBeInstanceOf(Error);
    expect(reference.message).toBe("Command timed out");
    for (const error of [get, script]) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).constructor).toBe(reference.constructor);
      expect((error as Error).message).toBe(reference.message);
    }
    // The late replies are ignored; the connection serves the next command.
    expect(await ours.get("deadline:k")).toBe("v");
  });

  it("an error reply settles its command: the commands behind it are not held until its deadline", async () => {
    const ours = await connected(new DeadlineRedis(server.url, options, 60_000));
    await ours.lpush("deadline:list", "x");
    const wrong = await outcome(ours.get("deadline:list")); // WRONGTYPE: rejected by Redis' reply
    expect(String(wrong)).toMatch(/WRONGTYPE/);
    await Promise.all(Array.from({ length: 200 }, () => ours.get("deadline:k")));
    await ours.get("deadline:k"); // its add drops every answered command at the head
    expect(ours.pendingDeadlines).toBeLessThanOrEqual(1);
  });

  it("holds one timer (unref'd) for any number of pending commands, not one each", async () => {
    const ours = await connected(new DeadlineRedis(server.url, options, 2_000));
    await ours.ping();
    const before = timers();
    await server.pause();
    let pending: Array<Promise<unknown>>;
    try {
      pending = Array.from({ length: 100 }, (_, i) => outcome(ours.get(`deadline:${i}`)));
      expect(timers() - before).toBeLessThanOrEqual(1);
    } finally {
      await server.resume();
    }
    const answers = await Promise.all(pending);
    expect(answers.every((answer) => (answer as { value?: unknown }).value === null)).toBe(true);
  });

  it("a client passed in without commandTimeout: CommandDeadline's own error, one timer for all pending calls", async () => {
    const theirs = await connected(new Redis(server.url, { ...options, lazyConnect: true }));
    const deadline = new CommandDeadline(theirs, 150);
    expect(await deadline.bound(theirs.set("deadline:k", "v"), "SET")).toBe("OK");
    const before = timers();
    await server.pause();
    let answers: unknown[];
    try {
      const pending = Array.from({ length: 50 }, () => outcome(deadline.bound(theirs.get("deadline:k"), "GET")));
      expect(timers() - before).toBeLessThanOrEqual(1); // not one per call
      answers = await Promise.all(pending);
    } finally {
      await server.resume();
    }
    for (const answer of answers) {
      expect(answer).toBeInstanceOf(Error);
      expect((answer as Error).message).toBe("redis GET timed out after 150ms");
    }
    // The late replies are ignored; calls made after resume are answered.
    expect(await deadline.bound(theirs.get("deadline:k"), "GET")).toBe("v");
  });

  it("a client passed in with its own commandTimeout keeps it: CommandDeadline adds nothing", async () => {
    const theirs = await connected(new Redis(server.url, { ...options, lazyConnect: true, commandTimeout: 100 }));
    const call = theirs.get("deadline:k");
    expect(new CommandDeadline(theirs, 5_000).bound(call, "GET")).toBe(call);
    expect(
      new CommandDeadline(await connected(new DeadlineRedis(server.url, options, 100)), 5_000).bound(call, "GET"),
    ).toBe(call);
    await call;
  });
});
