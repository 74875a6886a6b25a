/**
 * The Redis Cluster the cluster recipe runs on: `REDIS_CLUSTER_NODES` ("host:port,host:port,…", yours: the recipe
 * only adds and then deletes its own keys, and never fails a node over), or else a private 3-master + 3-replica
 * cluster of `redis-server --cluster-enabled yes` processes on free loopback ports, joined with
 * `redis-cli --cluster create`, in temp dirs, stopped and removed at the end.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const HOST = "127.0.0.1";
const SERVER = process.env.REDIS_SERVER_BIN ?? "redis-server";
const CLI = process.env.REDIS_CLI_BIN ?? "redis-cli";

/** The recipe cannot run here: say why and exit with code 2 (not a failure of the library). */
export class CannotRunError extends Error {
  override readonly name = "CannotRunError";
}

export interface ClusterServers {
  readonly seeds: ReadonlyArray<{ host: string; port: number }>;
  readonly description: string;
  /** True for a cluster this recipe started (it may fail nodes over); false for REDIS_CLUSTER_NODES. */
  readonly own: boolean;
  /** `redis-cli -p port …` on one node. */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const cli = async (port: number, ...args: string[]) =>
  (await run(CLI, ["-h", HOST, "-p", String(port), ...args], { timeout: 30_000 })).stdout.trim();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Whether `port` can be listened on right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port for a cluster node. Its cluster bus listens on port + 10,000, so that port must be free too (a node
 * whose bus port is taken exits), and at most 65,535 (a node above 55,535 refuses to start). Linux hands out bind(0)
 * ports from the lower half of its ephemeral range, so the bus port lands in the upper half, where outgoing
 * connections take theirs.
 */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort();
    if (port <= 55_535 && (await isFree(port + 10_000))) return port;
  }
  throw new Error("found no free port whose cluster bus port (port + 10000) is free too");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} (waited ${timeoutMs} ms)`);
    await sleep(100);
  }
}

export async function findCluster(): Promise<ClusterServers> {
  const given = process.env.REDIS_CLUSTER_NODES;
  if (given) {
    const seeds = given.split(",").map((entry) => {
      const [host, port] = entry.trim().split(":");
      return { host: host || HOST, port: Number(port) };
    });
    if (seeds.some((s) => !Number.isInteger(s.port) || s.port <= 0)) {
      throw new CannotRunError(`REDIS_CLUSTER_NODES must be host:port,host:port,… (got "${given}")`);
    }
    return { seeds, description: `REDIS_CLUSTER_NODES (${given})`, own: false, cli, stop: async () => {} };
  }
  try {
    await run(SERVER, ["--version"], { timeout: 5_000 });
    await run(CLI, ["--version"], { timeout: 5_000 });
  } catch {
    throw new CannotRunError(
      `a Redis Cluster is needed: set REDIS_CLUSTER_NODES, or install redis-server and redis-cli (${SERVER}, ${CLI} ` +
        "not found on PATH; REDIS_SERVER_BIN / REDIS_CLI_BIN override them)",
    );
  }
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    /** One node up and answering; a port taken between the probe and the bind costs a retry on another. */
    const startNode = async (): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        const port = await freeClusterPort();
        const dir = mkdtempSync(join(tmpdir(), "strata-recipe-cluster-"));
        dirs.push(dir);
        const args = ["--port", String(port), "--bind", HOST, "--dir", dir, "--save", "", "--appendonly", "no"];
        args.push("--cluster-enabled", "yes", "--cluster-node-timeout", "1000");
        const child = spawn(SERVER, args, { stdio: "ignore" });
        children.push(child);
        let exited = false;
        child.once("exit", () => {
          exited = true;
        });
        const deadline = Date.now() + 20_000;
        while (!exited && Date.now() < deadline) {
          if ((await cli(port, "PING").catch(() => "")) === "PONG") return port;
          await sleep(100);
        }
        child.kill("SIGKILL");
        if (attempt === 5) throw new Error(`node ${port} never answered (${exited ? "it exited" : "waited 20000 ms"})`);
      }
    };
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await startNode());
    await run(
      CLI,
      ["--cluster", "create", ...ports.map((p) => `${HOST}:${p}`), "--cluster-replicas", "1", "--cluster-yes"],
      {
        timeout: 30_000,
      },
    );
    await until(async () => {
      for (const port of ports) if (!/cluster_state:ok/.test(await cli(port, "CLUSTER", "INFO"))) return false;
      const nodes = await cli(ports[0]!, "CLUSTER", "NODES");
      return (nodes.match(/ slave /g) ?? []).length === 3;
    }, "the cluster never became healthy");
    // Replicas attach a moment after cluster_state:ok; a failover needs them in sync.
    await until(async () => {
      const links = await Promise.all(ports.map((p) => cli(p, "INFO", "replication")));
      return links.filter((info) => /master_link_status:up/.test(info)).length === 3;
    }, "the replicas never synced");
    return {
      seeds: ports.map((port) => ({ host: HOST, port })),
      description: `a private 3-master + 3-replica cluster on ${HOST}:${ports.join(",")} (spawned redis-server)`,
      own: true,
      cli,
      stop,
    };
  } catch (error) {
    await stop();
    throw new CannotRunError(`could not start a local cluster: ${error instanceof Error ? error.message : error}`);
  }
}
