/**
 * Real Redis servers for tests (never mocks). Two entry points:
 *
 *   const redis = await findRedis();      // a server this test file may use, or undefined
 *   redis?.url … await redis?.stop();     // tests share it only through unique key prefixes
 *
 *   const own = await startRedis({ args: ["--tracking-table-max-keys", "10"] });
 *   await own.kill(); await own.restart(); await own.pause(); await own.resume(); await own.stop();
 *
 * findRedis order: `REDIS_URL` (authoritative: when set and not answering, nothing else is tried,
 * so a run never silently tests a different server than the one asked for); a private
 * `redis-server` spawned on a free loopback port; a testcontainers `redis:7.0` when a Docker engine
 * answers. startRedis always spawns a private process, for fault tests that kill or pause it.
 * Spawned servers keep nothing on disk, live in a temp dir, and are SIGKILLed if the process exits
 * without stopping them.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { dockerAvailable, startContainer } from "./docker.js";
import { waitUntil } from "./eventually.js";
import { freeClusterPort, freePort, redisPing } from "./net.js";

/** A server a test file may use. `stop()` releases what this helper started (no-op for `REDIS_URL`). */
export interface RedisService {
  readonly url: string;
  /** Where it came from, for banners and logs: "REDIS_URL", "redis-server (spawned)", "testcontainers". */
  readonly source: string;
  stop(): Promise<void>;
}

/** A private `redis-server` child process that a test may break on purpose. */
export interface RedisProcess {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The current child's pid (changes on restart); undefined while it is down. */
  readonly pid: number | undefined;
  /** Terminates the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops (if running) and starts a new server on the same port; resolves once it answers PING. */
  restart(): Promise<void>;
  /** SIGKILL: the server vanishes without closing anything gracefully. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing is answered. Resolves once the kernel reports it stopped. */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): Promise<void>;
  /** Runs `redis-cli -h host -p port ...args` and resolves with its trimmed stdout. */
  cli(...args: string[]): Promise<string>;
}

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `["--maxmemory", "1mb"]`. */
  args?: string[];
}

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const CLI_TIMEOUT_MS = 10_000;
/** Overridable so that a machine with Redis elsewhere (or a specific version) can still spawn it. */
const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "redis-server";
const REDIS_CLI_BIN = process.env.REDIS_CLI_BIN ?? "redis-cli";

/** Children still alive, killed on exit so that a crashed or forgetful test leaves no orphan server. */
const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<void> {
  // No pid means it never started (e.g. ENOENT): there is no exit to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

interface Spawned {
  child: ChildProcess;
  /** The last lines the server printed, for error messages. */
  output: () => string;
}

function spawnServer(port: number, dir: string, extra: string[]): Spawned {
  const args = [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--logfile",
    "",
    ...extra,
  ];
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // ENOENT and friends arrive as an 'error' event; record them so the waiter can report them.
  child.on("error", (error) => lines.push(String(error)));
  live.add(child);
  child.once("exit", () => live.delete(child));
  return { child, output: () => lines.join("\n") };
}

/** Spawns and waits for PING; rejects (with the server's own output) if it exits or stays silent. */
async function bootServer(port: number, dir: string, extra: string[]): Promise<Spawned> {
  const spawned = spawnServer(port, dir, extra);
  const { child } = spawned;
  let gone = false;
  child.once("exit", () => {
    gone = true;
  });
  child.once("error", () => {
    gone = true;
  });
  try {
    await waitUntil(
      async () => {
        if (gone) throw new Error("exited");
        return redisPing(HOST, port, 500);
      },
      { timeoutMs: READY_TIMEOUT_MS, message: `redis-server on port ${port} did not answer PING` },
    );
    return spawned;
  } catch (error) {
    child.kill("SIGKILL");
    await exited(child);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`could not start ${REDIS_SERVER_BIN} on ${HOST}:${port}: ${reason}\n${spawned.output()}`);
  }
}

/** Whether the kernel reports `pid` as stopped (state T). Off Linux, trusts the signal. */
function isStopped(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  // Field 3, after the parenthesised command name (which may itself contain spaces).
  const text = readFileSync(stat, "utf8");
  const state = text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3);
  return state === "T" || state === "t";
}

/** Spawns a private `redis-server` on a free loopback port, in its own temp dir. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const extra = options.args ?? [];
  const dir = mkdtempSync(join(tmpdir(), "strata-redis-"));
  tempDirs.add(dir);

  // A free port can be taken between the probe and the bind; a few fresh ports cover that race.
  let port = 0;
  let current: Spawned | undefined;
  let lastError: unknown;
  const cluster = extra.includes("--cluster-enabled");
  for (let attempt = 0; attempt < 5 && !current; attempt++) {
    port = cluster ? await freeClusterPort(HOST) : await freePort(HOST);
    try {
      current = await bootServer(port, dir, extra);
    } catch (error) {
      lastError = error;
      if (!String(error).includes("Address already in use")) break;
    }
  }
  if (!current) {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  let stopped = false;
  const halt = async (signal: NodeJS.Signals) => {
    const spawned = current;
    current = undefined;
    if (!spawned) return;
    const { child } = spawned;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGCONT"); // a paused server cannot act on SIGTERM
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited(child);
    clearTimeout(timer);
  };
  const running = (): ChildProcess => {
    if (!current) throw new Error(`redis-server on port ${port} is not running`);
    return current.child;
  };

  const url = `redis://${HOST}:${port}`;
  return {
    url,
    host: HOST,
    port,
    get pid() {
      return current?.child.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
    async restart() {
      if (stopped) throw new Error("restart() after stop()");
      await halt("SIGTERM");
      // The port was ours a moment ago; retry briefly in case the kernel has not released it yet.
      let error: unknown;
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          current = await bootServer(port, dir, extra);
          return;
        } catch (caught) {
          error = caught;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      throw error;
    },
    async kill() {
      await halt("SIGKILL");
    },
    async pause() {
      const child = running();
      child.kill("SIGSTOP");
      const pid = child.pid;
      if (pid !== undefined) {
        await waitUntil(() => isStopped(pid), { timeoutMs: 2_000, intervalMs: 5, message: "SIGSTOP not observed" });
      }
    },
    async resume() {
      running().kill("SIGCONT");
    },
    cli(...args: string[]) {
      return new Promise<string>((resolve, reject) => {
        execFile(
          REDIS_CLI_BIN,
          ["-h", HOST, "-p", String(port), ...args],
          { timeout: CLI_TIMEOUT_MS },
          (error, stdout, stderr) => {
            if (error) reject(new Error(`redis-cli ${args.join(" ")} failed: ${error.message}\n${stderr}`));
            else resolve(stdout.trim());
          },
        );
      });
    },
  };
}

let serverVersion: Promise<string | undefined> | undefined;

/** `redis-server --version`'s `v=` field, or undefined when the binary cannot run. Memoised. */
export function redisServerVersion(): Promise<string | undefined> {
  serverVersion ??= new Promise((resolve) => {
    execFile(REDIS_SERVER_BIN, ["--version"], { timeout: 5_000 }, (error, stdout) => {
      resolve(error ? undefined : (/v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim()));
    });
  });
  return serverVersion;
}

/** One discovery attempt: the service, or why this step did not give one. */
export interface RedisSearch {
  service?: RedisService;
  /** What was tried and why each step failed, in order — the text for a skip banner. */
  tried: string[];
}

async function answers(url: string): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {}); // reported through the rejected commands below
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === "PONG" ? undefined : `PING answered ${pong}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

/** Discovery with the reasons kept, for `integrationEnv` banners. */
export async function locateRedis(): Promise<RedisSearch> {
  const tried: string[] = [];
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    const failure = await answers(fromEnv);
    if (!failure) return { service: { url: fromEnv, source: "REDIS_URL", stop: async () => {} }, tried };
    tried.push(`REDIS_URL does not answer: ${failure}`);
    return { tried };
  }

  try {
    const own = await startRedis();
    return { service: { url: own.url, source: "redis-server (spawned)", stop: () => own.stop() }, tried };
  } catch (error) {
    tried.push(`spawning redis-server failed: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
  }

  if (await dockerAvailable()) {
    try {
      const container = await startContainer({
        image: "redis:7.0",
        port: 6379,
        command: ["redis-server", "--save", "", "--appendonly", "no"],
        readyLog: /Ready to accept connections/,
      });
      const url = `redis://${container.host}:${container.port}`;
      return { service: { url, source: "testcontainers", stop: () => container.stop() }, tried };
    } catch (error) {
      tried.push(`testcontainers redis failed: ${error instanceof Error ? error.message : error}`);
    }
  } else {
    tried.push("no Docker engine answers (testcontainers skipped)");
  }
  return { tried };
}

/** A Redis server this test file may use, or undefined when none can be found. */
export async function findRedis(): Promise<RedisService | undefined> {
  return (await locateRedis()).service;
}
