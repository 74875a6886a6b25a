/**
 * A real Redis Sentinel group for tests: 1 master + 1 replica (private `redis-server`s) and 3 sentinels (`redis-server
 * <conf> --sentinel`) on free loopback ports, monitoring the master as `name` with a 1 s down-after. One per test file.
 *
 *   const group = await startRedisSentinel();
 *   group.sentinels …; await group.killMaster(); await group.stop();
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "./eventually.js";
import { freePort, redisPing } from "./net.js";
import { type RedisProcess, startRedis } from "./redis.js";

const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
const HOST = "127.0.0.1";

export interface RedisSentinelGroup {
  readonly name: string;
  /** The data servers: [first master, first replica]. */
  readonly servers: ReadonlyArray<RedisProcess>;
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** The port the sentinels currently report as master. */
  masterPort(): Promise<number>;
  /** Resolves once the replica has applied everything the current master took. */
  waitReplicated(): Promise<void>;
  /** SIGKILL of the current master; resolves once the sentinels switched to the replica and it accepts writes. */
  killMaster(): Promise<number>;
  stop(): Promise<void>;
}

/** `redis-cli -p port ...args`, its stdout ("" on failure). */
function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      process.env.REDIS_CLI_BIN ?? "redis-cli",
      ["-h", HOST, "-p", String(port), ...args],
      { timeout: 5_000 },
      (error, stdout) => resolve(error ? "" : stdout.trim()),
    );
  });
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

async function startSentinel(masterPort: number, name: string): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "strata-sentinel-"));
  const port = await freePort(HOST);
  const conf = join(dir, "sentinel.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      `bind ${HOST}`,
      `dir ${dir}`,
      `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      "",
    ].join("\n"),
  );
  const child = spawn(REDIS_SERVER_BIN, [conf, "--sentinel"], { stdio: "ignore" });
  children.add(child);
  child.once("exit", () => children.delete(child));
  await waitUntil(() => redisPing(HOST, port, 500), {
    timeoutMs: 10_000,
    message: `sentinel on ${port} never answered`,
  });
  return {
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startRedisSentinel(name = "strata"): Promise<RedisSentinelGroup> {
  const master = await startRedis();
  const replica = await startRedis({ args: ["--replicaof", HOST, String(master.port)] });
  const servers = [master, replica];
  await waitUntil(async () => /master_link_status:up/.test(await replica.cli("INFO", "replication")), {
    timeoutMs: 10_000,
    message: "the replica never synced",
  });
  const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(master.port, name)));
  const ask = async (): Promise<number> => {
    for (const s of sentinels) {
      const reply = await cli(s.port, "SENTINEL", "get-master-addr-by-name", name);
      const port = Number(reply.split("\n")[1]);
      if (Number.isInteger(port) && port > 0) return port;
    }
    throw new Error("no sentinel knows the master");
  };
  // Every sentinel sees the replica and the other sentinels before a failover test may start.
  await waitUntil(
    async () => {
      const info = await master.cli("INFO", "replication");
      if (!/connected_slaves:1/.test(info)) return false;
      const views = await Promise.all(sentinels.map((s) => cli(s.port, "SENTINEL", "master", name)));
      return views.every((out) => {
        const fields = out.split("\n");
        const value = (key: string) => fields[fields.indexOf(key) + 1];
        return value("num-slaves") === "1" && value("num-other-sentinels") === "2";
      });
    },
    { timeoutMs: 15_000, intervalMs: 100, message: "the sentinels never discovered each other and the replica" },
  );
  return {
    name,
    servers,
    sentinels: sentinels.map((s) => ({ host: HOST, port: s.port })),
    masterPort: ask,
    async waitReplicated() {
      const masterPort = await ask();
      const replicaPort = servers.find((s) => s.port !== masterPort)!.port;
      const offset = async (port: number, field: string) =>
        Number(new RegExp(`${field}:(\\d+)`).exec(await cli(port, "INFO", "replication"))?.[1] ?? -1);
      await waitUntil(
        async () =>
          (await offset(replicaPort, "slave_repl_offset")) >= (await offset(masterPort, "master_repl_offset")),
        { timeoutMs: 5_000, intervalMs: 5, message: "the replica never caught up" },
      );
    },
    async killMaster() {
      const before = await ask();
      const victim = servers.find((s) => s.port === before)!;
      await victim.kill();
      await waitUntil(async () => (await ask()) !== before, {
        timeoutMs: 15_000,
        intervalMs: 50,
        message: "the sentinels never failed over",
      });
      const promoted = servers.find((s) => s.port !== before)!;
      await waitUntil(async () => /role:master/.test(await promoted.cli("INFO", "replication")), {
        timeoutMs: 10_000,
        intervalMs: 50,
        message: "the replica never became master",
      });
      return before;
    },
    async stop() {
      await Promise.all(sentinels.map((s) => s.stop()));
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
