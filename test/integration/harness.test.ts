/**
 * Tests of the test harness itself (test/support): spawned Redis lifecycle, the TCP proxy's faults,
 * fresh Postgres databases, and the skip/fail policy. If these lie, every fault test built on them lies.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { redisPing } from "../support/net.js";
import { databaseExists } from "../support/postgres.js";
import { type RedisProcess, redisServerVersion, startRedis } from "../support/redis.js";
import { integrationEnv, ServicesUnavailableError, servicesUnavailable } from "../support/services.js";
import { createProxy, proxiedUrl, type TcpProxy } from "../support/tcp-proxy.js";

const env = await integrationEnv({ postgres: true, redis: true, privateRedis: true });

const redisVersion = await redisServerVersion();
if (!redisVersion) servicesUnavailable("harness: private redis-server tests", "redis-server is not on PATH");
const canSpawn = redisVersion !== undefined;

/** A client that fails fast instead of reconnecting forever, so a broken link shows up as an error. */
function client(url: string, options: { commandTimeout?: number } = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    ...options,
  });
  redis.on("error", () => {});
  return redis;
}

const opened: { close(): unknown }[] = [];
function track<T extends Redis>(redis: T): T {
  opened.push({ close: () => redis.disconnect() });
  return redis;
}
afterEach(() => {
  for (const item of opened.splice(0)) item.close();
});

describe.skipIf(!canSpawn)("startRedis", () => {
  let server: RedisProcess;
  afterAll(async () => server?.stop());

  it("spawns a private server on a loopback port that answers PING", async () => {
    server = await startRedis({ args: ["--tracking-table-max-keys", "7"] });
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).toBeGreaterThan(0);
    expect(server.port).not.toBe(6379);
    const redis = track(client(server.url));
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    // Extra args reach the server.
    expect(await server.cli("CONFIG", "GET", "tracking-table-max-keys")).toBe("tracking-table-max-keys\n7");
  });

  it("restart() keeps the port and answers again, with the extra args", async () => {
    const { port, pid } = server;
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    const redis = track(client(server.url));
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    expect(await redis.config("GET", "tracking-table-max-keys")).toEqual(["tracking-table-max-keys", "7"]);
  });

  it("kill() makes it unreachable; restart() brings it back", async () => {
    const redis = track(client(server.url));
    await redis.connect();
    await redis.set("harness:k", "v");
    await server.kill();
    expect(server.pid).toBeUndefined();
    expect(await redisPing(server.host, server.port, 500)).toBe(false);
    await expect(redis.ping()).rejects.toThrow();
    await server.restart();
    expect(await redisPing(server.host, server.port, 2_000)).toBe(true);
    // Nothing was kept on disk across the kill.
    expect(await server.cli("EXISTS", "harness:k")).toBe("0");
  });

  it("pause() stops answering without closing connections; resume() answers on the same connection", async () => {
    const redis = track(client(server.url));
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    await server.pause();
    try {
      expect(await redisPing(server.host, server.port, 300)).toBe(false);
      const pending = redis.ping();
      const outcome = await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 300, "silent"))]);
      expect(outcome).toBe("silent");
      await server.resume();
      expect(await pending).toBe("PONG");
    } finally {
      await server.resume();
    }
    expect(redis.status).toBe("ready");
  });

  it("stop() terminates it and is idempotent", async () => {
    const own = await startRedis();
    await own.stop();
    await own.stop();
    expect(await redisPing(own.host, own.port, 500)).toBe(false);
    await expect(own.restart()).rejects.toThrow(/after stop/);
  });
});

describe.skipIf(!canSpawn)("createProxy", () => {
  let server: RedisProcess;
  let proxy: TcpProxy;
  // A failed assertion must not leave the link broken for the next test.
  afterEach(() => {
    proxy?.restore();
    proxy?.delay(0);
    proxy?.releaseReplies();
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it("passes traffic both ways and counts connections", async () => {
    server = await startRedis();
    proxy = await createProxy({ host: server.host, port: server.port });
    const url = proxiedUrl(server.url, proxy);
    expect(url).toBe(`redis://127.0.0.1:${proxy.port}`);
    const redis = track(client(url));
    await redis.connect();
    const big = "x".repeat(1 << 20); // larger than a socket buffer, so backpressure is exercised
    await redis.set("harness:big", big);
    expect(await redis.get("harness:big")).toBe(big);
    expect(proxy.connections).toBe(1);
    // The write really reached the server behind the proxy.
    expect(await server.cli("STRLEN", "harness:big")).toBe(String(big.length));
  });

  it("cut() breaks live connections and refuses new ones; restore() lets new ones through", async () => {
    const url = proxiedUrl(server.url, proxy);
    const live = track(client(url, { commandTimeout: 1_000 }));
    await live.connect();
    expect(await live.ping()).toBe("PONG");
    proxy.cut();
    await expect(live.ping()).rejects.toThrow();
    expect(await redisPing(proxy.host, proxy.port, 500)).toBe(false);
    const fresh = track(client(url, { commandTimeout: 1_000 }));
    await expect(fresh.connect().then(() => fresh.ping())).rejects.toThrow();
    // The server itself is fine: only the link is cut.
    expect(await redisPing(server.host, server.port)).toBe(true);
    proxy.restore();
    expect(await redisPing(proxy.host, proxy.port, 1_000)).toBe(true);
    const after = track(client(url));
    await after.connect();
    expect(await after.ping()).toBe("PONG");
  });

  it("blackhole() silences live and new connections; restore() closes the silenced ones", async () => {
    const url = proxiedUrl(server.url, proxy);
    const live = track(client(url, { commandTimeout: 300 }));
    await live.connect();
    expect(await live.ping()).toBe("PONG");
    proxy.blackhole();
    await expect(live.ping()).rejects.toThrow(/timed out/i);
    expect(await redisPing(proxy.host, proxy.port, 300)).toBe(false);
    proxy.restore();
    expect(await redisPing(proxy.host, proxy.port, 1_000)).toBe(true);
    await vi.waitFor(() => expect(live.status).toBe("end"), { timeout: 2_000 });
  });

  it("delay(ms) adds at least ms per direction; delay(0) turns it off", async () => {
    const url = proxiedUrl(server.url, proxy);
    const redis = track(client(url));
    await redis.connect();
    const ms = 80;
    proxy.delay(ms);
    const started = performance.now();
    expect(await redis.ping()).toBe("PONG");
    const elapsed = performance.now() - started;
    // A request and its reply each wait `ms`; 2 ms of slack for the millisecond clock's rounding.
    expect(elapsed).toBeGreaterThanOrEqual(2 * ms - 2);
    // Order is kept under delay.
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => redis.echo(String(i))));
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    proxy.delay(0);
    expect(await redis.ping()).toBe("PONG");
    expect(() => proxy.delay(-1)).toThrow(RangeError);
  });

  it("holdReplies() lets requests run on the server but keeps their replies until releaseReplies()", async () => {
    const url = proxiedUrl(server.url, proxy);
    const redis = track(client(url));
    await redis.connect();
    proxy.holdReplies();
    let answered = false;
    const pending = redis.set("harness:held", "1").then((reply) => {
      answered = true;
      return reply;
    });
    // The SET executed (seen directly on the server) while its reply is still held.
    const deadline = Date.now() + 2_000;
    while ((await server.cli("GET", "harness:held")) !== "1" && Date.now() < deadline) await sleep(5);
    expect(await server.cli("GET", "harness:held")).toBe("1");
    while (proxy.heldReplies === 0 && Date.now() < deadline) await sleep(5);
    expect(proxy.heldReplies).toBeGreaterThan(0);
    expect(answered).toBe(false);
    const fresh = track(client(url)); // a connection opened after holdReplies() passes freely
    await fresh.connect();
    expect(await fresh.ping()).toBe("PONG");
    expect(answered).toBe(false);
    proxy.releaseReplies();
    expect(await pending).toBe("OK");
    expect(proxy.heldReplies).toBe(0);
    expect(await redis.ping()).toBe("PONG"); // no longer holding
  });

  it("close() ends connections and frees the listener", async () => {
    const other = await createProxy({ host: server.host, port: server.port });
    const redis = track(client(proxiedUrl(server.url, other)));
    await redis.connect();
    await other.close();
    await other.close();
    await vi.waitFor(() => expect(redis.status).toBe("end"), { timeout: 2_000 });
    expect(await redisPing(other.host, other.port, 300)).toBe(false);
  });
});

describe("proxiedUrl", () => {
  it("swaps host and port, keeping credentials, database and query", () => {
    const url = proxiedUrl("postgres://u:p%40ss@db.example:5432/app?sslmode=disable", {
      host: "127.0.0.1",
      port: 6000,
    });
    expect(url).toBe("postgres://u:p%40ss@127.0.0.1:6000/app?sslmode=disable");
    expect(proxiedUrl("redis://:secret@10.0.0.1:6379/2", { host: "127.0.0.1", port: 7000 })).toBe(
      "redis://:secret@127.0.0.1:7000/2",
    );
  });
});

describe.skipIf(env.skip)("integrationEnv and Postgres databases", () => {
  it("gives this file a fresh, empty database and a Redis that answers", async () => {
    const db = env.postgres!;
    expect(db.name).toMatch(new RegExp(`^strata_t_${process.pid}_[0-9a-f]{8}$`));
    expect(await databaseExists(db.adminUrl, db.name)).toBe(true);
    const pgClient = new pg.Client({ connectionString: db.url });
    await pgClient.connect();
    try {
      const { rows } = await pgClient.query<{ name: string; tables: string }>(
        "SELECT current_database() AS name, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables",
      );
      expect(rows[0]).toEqual({ name: db.name, tables: "0" });
    } finally {
      await pgClient.end();
    }
    const redis = track(client(env.redisUrl!));
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
  });

  it("createDatabase() makes a usable database; drop() removes it, even with a client still connected", async () => {
    const db = await env.postgres!.server.createDatabase();
    expect(db.name).not.toBe(env.postgres!.name);
    const pgClient = new pg.Client({ connectionString: db.url });
    pgClient.on("error", () => {});
    await pgClient.connect();
    await pgClient.query("CREATE TABLE t (id int PRIMARY KEY)");
    await pgClient.query("INSERT INTO t VALUES (1)");
    await db.drop();
    await db.drop(); // idempotent
    expect(await databaseExists(env.postgres!.adminUrl, db.name)).toBe(false);
    await expect(pgClient.query("SELECT 1")).rejects.toThrow();
    await pgClient.end().catch(() => {});
  });

  it("a proxy in front of Postgres passes queries and cut() fails them", async () => {
    const target = new URL(env.postgres!.url);
    if (!target.hostname || target.searchParams.has("host")) return; // socket-only server: nothing to proxy
    const proxy = await createProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const pgClient = new pg.Client({ connectionString: proxiedUrl(env.postgres!.url, proxy) });
    pgClient.on("error", () => {});
    try {
      await pgClient.connect();
      expect((await pgClient.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one).toBe(1);
      proxy.cut();
      await expect(pgClient.query("SELECT 1")).rejects.toThrow();
    } finally {
      await pgClient.end().catch(() => {});
      await proxy.close();
    }
  });
});

describe("servicesUnavailable", () => {
  it("throws a ServicesUnavailableError naming the suite when services are required", () => {
    expect(() => servicesUnavailable("suite X", "no postgres", { required: true })).toThrow(ServicesUnavailableError);
    expect(() => servicesUnavailable("suite X", "no postgres", { required: true })).toThrow(/suite X.*no postgres/);
  });

  it("only warns, loudly, when services are optional", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(() => servicesUnavailable("suite Y", "no redis", { required: false })).not.toThrow();
      expect(warn).toHaveBeenCalledTimes(1);
      const text = String(warn.mock.calls[0]?.[0]);
      expect(text).toContain("SKIPPING suite Y");
      expect(text).toContain("no redis");
    } finally {
      warn.mockRestore();
    }
  });
});
