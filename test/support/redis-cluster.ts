/**
 * A real Redis Cluster for tests: 3 masters + 3 replicas of private `redis-server` processes on free loopback ports
 * (each in its own temp dir, so `nodes.conf` survives a restart), joined with `redis-cli --cluster create`. One per
 * test file (it takes a few seconds): start it in beforeAll, `stop()` it in afterAll.
 *
 *   const cluster = await startRedisCluster();
 *   cluster.seeds …; await cluster.failover(replica); await cluster.killMaster(master); await cluster.stop();
 */
import { execFile } from "node:child_process";
import { waitUntil } from "./eventually.js";
import { type RedisProcess, startRedis } from "./redis.js";

const REDIS_CLI_BIN = process.env.REDIS_CLI_BIN ?? "redis-cli";
/** Short node timeout: a killed master is failed over in ~2 s instead of 15. */
const NODE_TIMEOUT_MS = 1_000;

/** One node as `CLUSTER NODES` reports it. */
export interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly role: "master" | "slave";
  /** The master's id, for a replica. */
  readonly masterId: string | undefined;
  readonly failed: boolean;
  /** Slot ranges `[from, to]` of a master. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

export interface RedisCluster {
  /** Every node process (the index is stable; a killed node stays in the list). */
  readonly processes: ReadonlyArray<RedisProcess>;
  /** `{ host, port }` of every node, for `new Cluster(seeds)`. */
  readonly seeds: ReadonlyArray<{ host: string; port: number }>;
  /** The topology seen from a live node. */
  nodes(): Promise<ClusterNode[]>;
  /** The process on `port`. */
  process(port: number): RedisProcess;
  /** `CLUSTER FAILOVER` on `replicaPort`; resolves once it is master and the cluster is healthy again. */
  failover(replicaPort: number): Promise<void>;
  /** SIGKILL of the master on `masterPort`; resolves once its replica took over (the killed node stays down). */
  killMaster(masterPort: number): Promise<void>;
  /** Resolves once the replica of the master on `masterPort` has applied everything the master took. */
  waitReplicated(masterPort: number): Promise<void>;
  /** Restarts a killed node (it rejoins as a replica); resolves once the cluster is healthy again. */
  revive(port: number): Promise<void>;
  /** Moves `count` slots from one master to another with `redis-cli --cluster reshard` (keys migrate). */
  reshard(fromPort: number, toPort: number, count: number): Promise<void>;
  /** Every slot served, every master with a linked replica, all live nodes agreeing. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function cli(args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI_BIN, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

/** Parses `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id, addr, flags, master, , , , , ...slotFields] = line.trim().split(" ");
      const address = (addr ?? "").split("@")[0] ?? "";
      const flagList = (flags ?? "").split(",");
      const slots = slotFields
        .filter((s) => !s.startsWith("["))
        .map((s) => {
          const [from, to] = s.split("-").map(Number);
          return [from!, to ?? from!] as const;
        });
      return {
        id: id!,
        address,
        port: Number(address.split(":")[1]),
        role: flagList.includes("master") ? "master" : "slave",
        masterId: master === "-" ? undefined : master,
        failed: flagList.includes("fail") || flagList.includes("fail?") || flagList.includes("noaddr"),
        slots,
      } satisfies ClusterNode;
    });
}

export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const args = ["--cluster-enabled", "yes", "--cluster-node-timeout", String(NODE_TIMEOUT_MS)];
  const processes = await Promise.all(Array.from({ length: masters * 2 }, () => startRedis({ args })));
  const down = new Set<number>();
  const byPort = new Map(processes.map((p) => [p.port, p]));
  const live = () => processes.filter((p) => !down.has(p.port));

  const nodes = async (): Promise<ClusterNode[]> => {
    for (const p of live()) {
      try {
        return parseClusterNodes(await p.cli("CLUSTER", "NODES"));
      } catch {
        // try the next live node
      }
    }
    throw new Error("no live cluster node answers");
  };

  const waitHealthy = async (timeoutMs = 20_000) => {
    await waitUntil(
      async () => {
        for (const p of live()) {
          const info = await p.cli("CLUSTER", "INFO").catch(() => "");
          if (!/cluster_state:ok/.test(info)) return false;
        }
        const views = await Promise.all(live().map((p) => p.cli("CLUSTER", "NODES").catch(() => "")));
        const first = parseClusterNodes(views[0] ?? "");
        const up = first.filter((n) => !n.failed && !down.has(n.port));
        const ms = up.filter((n) => n.role === "master" && n.slots.length > 0);
        if (ms.length !== masters) return false;
        // Every master's replica replicates (link up), seen from the replica itself.
        for (const m of ms) {
          const replica = up.find((n) => n.role === "slave" && n.masterId === m.id);
          if (replica === undefined) return false;
          const info = await byPort
            .get(replica.port)
            ?.cli("INFO", "replication")
            .catch(() => "");
          if (!/master_link_status:up/.test(info ?? "")) return false;
        }
        // Every live node agrees on who masters which slots.
        const owners = (view: string) =>
          parseClusterNodes(view)
            .filter((n) => n.role === "master" && n.slots.length > 0 && !n.failed)
            .map((n) => `${n.port}:${JSON.stringify(n.slots)}`)
            .sort()
            .join(";");
        return views.every((view) => owners(view) === owners(views[0] ?? ""));
      },
      { timeoutMs, intervalMs: 100, message: "the cluster never became healthy" },
    );
  };

  const addresses = processes.map((p) => `${p.host}:${p.port}`);
  try {
    await cli(["--cluster", "create", ...addresses, "--cluster-replicas", "1", "--cluster-yes"]);
    await waitHealthy();
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    throw error;
  }

  const processOn = (port: number): RedisProcess => {
    const p = byPort.get(port);
    if (p === undefined) throw new Error(`no cluster node on port ${port}`);
    return p;
  };

  return {
    processes,
    seeds: processes.map((p) => ({ host: p.host, port: p.port })),
    nodes,
    process: processOn,
    async failover(replicaPort) {
      await processOn(replicaPort).cli("CLUSTER", "FAILOVER");
      await waitUntil(async () => (await nodes()).find((n) => n.port === replicaPort)?.role === "master", {
        timeoutMs: 10_000,
        intervalMs: 50,
        message: `node ${replicaPort} never became master`,
      });
      await waitHealthy();
    },
    async killMaster(masterPort) {
      const before = await nodes();
      const master = before.find((n) => n.port === masterPort);
      const replica = before.find((n) => n.masterId === master?.id);
      if (master?.role !== "master" || replica === undefined)
        throw new Error(`${masterPort} is no master with a replica`);
      await processOn(masterPort).kill();
      down.add(masterPort);
      await waitUntil(async () => (await nodes()).find((n) => n.port === replica.port)?.role === "master", {
        timeoutMs: 15_000,
        intervalMs: 50,
        message: `replica ${replica.port} was never promoted`,
      });
    },
    async waitReplicated(masterPort) {
      const all = await nodes();
      const master = all.find((n) => n.port === masterPort);
      const replica = all.find((n) => n.masterId === master?.id);
      if (replica === undefined) throw new Error(`${masterPort} has no replica`);
      const offset = async (port: number, field: string) =>
        Number(new RegExp(`${field}:(\\d+)`).exec(await processOn(port).cli("INFO", "replication"))?.[1] ?? -1);
      await waitUntil(
        async () =>
          (await offset(replica.port, "slave_repl_offset")) >= (await offset(masterPort, "master_repl_offset")),
        { timeoutMs: 5_000, intervalMs: 5, message: `the replica of ${masterPort} never caught up` },
      );
    },
    async revive(port) {
      await processOn(port).restart();
      down.delete(port);
      await waitHealthy(30_000);
    },
    async reshard(fromPort, toPort, count) {
      const all = await nodes();
      const from = all.find((n) => n.port === fromPort);
      const to = all.find((n) => n.port === toPort);
      if (from === undefined || to === undefined) throw new Error("reshard: unknown node");
      await cli([
        "--cluster",
        "reshard",
        `127.0.0.1:${toPort}`,
        "--cluster-from",
        from.id,
        "--cluster-to",
        to.id,
        "--cluster-slots",
        String(count),
        "--cluster-yes",
        "--cluster-pipeline",
        "100",
      ]);
      await waitHealthy();
    },
    waitHealthy,
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}
