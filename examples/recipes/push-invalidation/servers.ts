/**
 * Finds the servers the push-invalidation recipe runs on. Push needs a real Redis (CLIENT TRACKING), so there is no
 * in-process fallback for it:
 *
 * - Redis: `REDIS_URL` when set (and only it: a URL that does not answer is an error, never silently replaced);
 *   otherwise a local server at 127.0.0.1:6379 when it answers; otherwise a private `redis-server` from PATH
 *   (or `REDIS_SERVER_BIN`), spawned on a free port in a temp dir and stopped at the end.
 * - Postgres: `DATABASE_URL`; otherwise a local server at 127.0.0.1:5432 when it answers; otherwise one in-memory
 *   PGlite instance that both replicas share (the same object passed to both `postgresModule({ pglite })`).
 *
 * `STRATA_ENGINES=embedded` skips REDIS_URL / DATABASE_URL and the local servers: PGlite and a spawned redis-server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { PostgresDocumentOptions, RuntimeModule } from "../../../src/index.js";
import { postgresModule } from "../../../src/index.js";
import { deleteNamespaces, dropTables, postgresAnswers, redact } from "../shared/engines.js";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const LOCAL_REDIS = "redis://127.0.0.1:6379";
const HOST = "127.0.0.1";

/** The recipe cannot show push on this machine: say why and exit with code 2 (not a failure of the library). */
export class CannotRunError extends Error {
  override readonly name = "CannotRunError";
}

export interface RedisServer {
  readonly url: string;
  /** For the `engines:` line. */
  readonly description: string;
  /** Stops a server we spawned (and removes its temp dir); a no-op for a server we only connected to. */
  stop(): Promise<void>;
  /** On a server we only connected to (yours), deletes every key under these namespaces; a spawned one just goes. */
  cleanUp(namespaces: ReadonlyArray<string>): Promise<void>;
}

export interface PostgresServer {
  readonly description: string;
  /** A postgresModule for one replica; every replica's module reaches the same database. */
  module(documents: Record<string, PostgresDocumentOptions>): RuntimeModule;
  /**
   * Closes the shared PGlite instance, if we made one (runtimes leave a supplied instance open); on a real server,
   * drops the tables the modules routed, so nothing is left on yours.
   */
  close(): Promise<void>;
}

const embedded = () => process.env.STRATA_ENGINES === "embedded";

export async function findRedis(): Promise<RedisServer> {
  const tried: string[] = [];
  if (!embedded()) {
    const fromEnv = process.env.REDIS_URL;
    if (fromEnv) {
      const failure = await redisFailure(fromEnv);
      if (failure === undefined) return connected(fromEnv, "REDIS_URL");
      throw new CannotRunError(
        `push invalidation needs a real Redis, and REDIS_URL (${redact(fromEnv)}) does not answer: ${failure}`,
      );
    }
    tried.push("REDIS_URL is not set");
    const local = await redisFailure(LOCAL_REDIS);
    if (local === undefined) return connected(LOCAL_REDIS, "local");
    tried.push(`nothing answers at ${LOCAL_REDIS} (${local})`);
  } else {
    tried.push("STRATA_ENGINES=embedded: REDIS_URL and a local server were not tried");
  }
  try {
    return await spawnRedis();
  } catch (error) {
    tried.push(`could not spawn a private redis-server: ${error instanceof Error ? error.message : String(error)}`);
  }
  throw new CannotRunError(
    [
      "push invalidation needs a real Redis (CLIENT TRACKING, Redis >= 6); the in-process L2 cannot push. Tried:",
      ...tried.map((line) => `  - ${line}`),
      "Set REDIS_URL, start Redis on 127.0.0.1:6379, or put redis-server on PATH (or in REDIS_SERVER_BIN).",
    ].join("\n"),
  );
}

export async function findPostgres(): Promise<PostgresServer> {
  if (!embedded()) {
    const url = process.env.DATABASE_URL ?? ((await postgresAnswers(LOCAL_POSTGRES)) ? LOCAL_POSTGRES : undefined);
    if (url !== undefined) {
      const tables = new Set<string>();
      return {
        description: `Postgres at ${redact(url)}`,
        module: (documents) => {
          for (const route of Object.values(documents)) if (route.table) tables.add(route.table);
          return postgresModule({ url, documents });
        },
        close: () => dropTables(url, tables),
      };
    }
  }
  // `pglite: true` would give each runtime its own in-memory database: two replicas that share nothing. One instance,
  // passed to both, is one database (runtimes leave a supplied instance open; we close it at the end).
  const { PGlite } = await import("@electric-sql/pglite");
  const shared = await PGlite.create();
  return {
    description: "PGlite (embedded Postgres, one in-memory instance shared by both replicas)",
    module: (documents) => postgresModule({ pglite: shared, documents }),
    close: () => shared.close(),
  };
}

async function connected(url: string, source: string): Promise<RedisServer> {
  const version = await redisVersion(url);
  return {
    url,
    description: `Redis ${version} at ${redact(url)} (${source})`,
    stop: async () => {},
    cleanUp: (namespaces) => deleteNamespaces(url, namespaces),
  };
}

/** A private redis-server on a free loopback port, in its own temp dir: nothing persisted, killed at the end. */
async function spawnRedis(): Promise<RedisServer> {
  const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const dir = mkdtempSync(join(tmpdir(), "stratacache-push-recipe-"));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir];
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    const url = `redis://${HOST}:${port}`;
    try {
      await ready(child, url);
      const version = await redisVersion(url);
      return {
        url,
        description: `Redis ${version} at ${url} (private ${bin}, pid ${child.pid}, spawned for this run)`,
        cleanUp: async () => {}, // the whole server goes at stop()
        stop: async () => {
          await stopChild(child);
          process.removeListener("exit", killOnExit);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await stopChild(child);
      process.removeListener("exit", killOnExit);
      // Another process may take the free port before the server binds it: try a fresh one.
      if (!String(error).includes("Address already in use")) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** Resolves once the server answers PING; rejects with its own output when it exits or stays silent for 5 s. */
function ready(child: ChildProcess, url: string): Promise<void> {
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(chunk.toString("utf8"));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      const tail = output.join("").trim().split("\n").slice(-3).join(" | ");
      reject(new Error(tail ? `${why}: ${tail}` : why));
    };
    const deadline = setTimeout(() => fail(`${url} did not answer PING within 5 s`), 5_000);
    child.once("error", (error) => fail(error.message)); // ENOENT: no such binary
    child.once("exit", (code, signal) => fail(`redis-server exited (${signal ?? `code ${code}`})`));
    const poll = async () => {
      while (!settled) {
        if ((await redisFailure(url, 200)) === undefined) {
          settled = true;
          clearTimeout(deadline);
          resolve();
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    void poll();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Why `url` does not answer PING, or undefined when it does. */
async function redisFailure(url: string, timeoutMs = 1_000): Promise<string | undefined> {
  const client = quickClient(url, timeoutMs);
  let cause: string | undefined; // ioredis rejects with "Connection is closed."; the 'error' event says why
  client.on("error", (error: Error) => {
    cause ??= error.message;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === "PONG" ? undefined : `PING answered ${pong}`;
  } catch (error) {
    return cause ?? (error instanceof Error ? error.message : String(error));
  } finally {
    client.disconnect();
  }
}

async function redisVersion(url: string): Promise<string> {
  const client = quickClient(url, 1_000);
  try {
    await client.connect();
    return /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "(unknown version)";
  } catch {
    return "(unknown version)";
  } finally {
    client.disconnect();
  }
}

function quickClient(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on("error", () => {}); // reported through the failed command instead
  return client;
}
