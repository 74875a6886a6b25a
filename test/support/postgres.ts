/**
 * A real Postgres for tests (never a mock), with a fresh database per test file:
 *
 *   const server = await findPostgres();          // undefined when none is reachable
 *   const db = await server.createDatabase();     // strata_t_<pid>_<random>, empty
 *   new pg.Client(db.url) …
 *   await db.drop();                              // DROP DATABASE … WITH (FORCE); idempotent
 *
 * Discovery order: `DATABASE_URL` (authoritative: when set and not usable nothing else is tried,
 * so a run never silently tests another server); the local server — from PGHOST/PGPORT/PGUSER/
 * PGDATABASE when any is set, then `postgres://postgres@127.0.0.1:5432/postgres`; a testcontainers
 * `postgres:15` when a Docker engine answers. The server is found once per process and shared.
 * Databases left behind by dead processes on a loopback server are swept when it is first found.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { dockerAvailable, startContainer } from "./docker.js";

export interface TestDatabase {
  /** Connection string for this database (the admin URL with the database name swapped in). */
  readonly url: string;
  readonly name: string;
  /** Drops it, forcibly disconnecting leftover clients. Safe to call twice. */
  drop(): Promise<void>;
}

export interface PostgresServer {
  /** A URL with the right to CREATE DATABASE; tests should not write into its database. */
  readonly adminUrl: string;
  /** Where it came from: "DATABASE_URL", "PG* environment", "local postgres", "testcontainers". */
  readonly source: string;
  createDatabase(): Promise<TestDatabase>;
}

/** One discovery attempt: the server, or what was tried and why each step failed. */
export interface PostgresSearch {
  server?: PostgresServer;
  tried: string[];
}

const CONNECT_TIMEOUT_MS = 3_000;
const NAME_PREFIX = "strata_t_";

/** Runs `fn` on a short-lived admin connection. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on("error", () => {}); // a server-side disconnect surfaces through the failing query instead
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Whether a database of that name exists on the server behind `adminUrl`. */
export function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  return withClient(adminUrl, async (client) => {
    const result = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return result.rowCount === 1;
  });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function isLoopback(adminUrl: string): boolean {
  const url = new URL(adminUrl);
  const host = url.hostname || url.searchParams.get("host") || "";
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]" || host.startsWith("/");
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Drops `strata_t_<pid>_*` databases whose process is gone (a crashed or killed earlier run). */
async function sweepOrphans(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'strata\\_t\\_%'",
    );
    for (const { datname } of rows) {
      const pid = Number(datname.slice(NAME_PREFIX.length).split("_")[0]);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || pidAlive(pid)) continue;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => {});
    }
  });
}

function makeServer(adminUrl: string, source: string): PostgresServer {
  return {
    adminUrl,
    source,
    async createDatabase() {
      const name = `${NAME_PREFIX}${process.pid}_${randomBytes(4).toString("hex")}`;
      // template0 never has connections, so concurrent CREATE DATABASEs cannot trip over each other.
      await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`));
      let dropped = false;
      return {
        name,
        url: databaseUrl(adminUrl, name),
        async drop() {
          if (dropped) return;
          await withClient(adminUrl, (client) =>
            client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
          );
          dropped = true;
        },
      };
    },
  };
}

/** Connects and checks the role may create databases; returns the failure, or undefined when usable. */
async function usable(adminUrl: string): Promise<string | undefined> {
  try {
    return await withClient(adminUrl, async (client) => {
      const { rows } = await client.query<{ ok: boolean; who: string }>(
        "SELECT (rolcreatedb OR rolsuper) AS ok, current_user AS who FROM pg_roles WHERE rolname = current_user",
      );
      const row = rows[0];
      return row?.ok ? undefined : `role ${row?.who ?? "?"} may not CREATE DATABASE`;
    });
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  }
}

function localCandidates(): { url: string; source: string }[] {
  const candidates: { url: string; source: string }[] = [];
  const { PGHOST, PGPORT, PGUSER, PGDATABASE } = process.env;
  if (PGHOST || PGPORT || PGUSER || PGDATABASE) {
    const user = encodeURIComponent(PGUSER || "postgres");
    const database = encodeURIComponent(PGDATABASE || "postgres");
    const port = PGPORT || "5432";
    const host = PGHOST || "127.0.0.1";
    // A PGHOST starting with "/" is a socket directory, which pg takes as the `host` query parameter.
    const url = host.startsWith("/")
      ? `postgres://${user}@localhost:${port}/${database}?host=${encodeURIComponent(host)}`
      : `postgres://${user}@${host}:${port}/${database}`;
    candidates.push({ url, source: "PG* environment" });
  }
  const fallback = "postgres://postgres@127.0.0.1:5432/postgres";
  if (!candidates.some((c) => c.url === fallback)) candidates.push({ url: fallback, source: "local postgres" });
  return candidates;
}

async function search(): Promise<PostgresSearch> {
  const tried: string[] = [];
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    const failure = await usable(fromEnv);
    if (failure) return { tried: [`DATABASE_URL is not usable: ${failure}`] };
    if (isLoopback(fromEnv)) await sweepOrphans(fromEnv).catch(() => {});
    return { server: makeServer(fromEnv, "DATABASE_URL"), tried };
  }

  for (const candidate of localCandidates()) {
    const failure = await usable(candidate.url);
    if (!failure) {
      await sweepOrphans(candidate.url).catch(() => {});
      return { server: makeServer(candidate.url, candidate.source), tried };
    }
    tried.push(`${candidate.source} (${new URL(candidate.url).host || candidate.url}): ${failure}`);
  }

  if (await dockerAvailable()) {
    try {
      const container = await startContainer({
        image: "postgres:15",
        port: 5432,
        env: { POSTGRES_HOST_AUTH_METHOD: "trust" },
        // Printed once by the init server and once by the real one.
        readyLog: /database system is ready to accept connections/,
        readyLogTimes: 2,
      });
      // The container is reaped by testcontainers when this process exits; it is shared per process.
      const url = `postgres://postgres@${container.host}:${container.port}/postgres`;
      return { server: makeServer(url, "testcontainers"), tried };
    } catch (error) {
      tried.push(`testcontainers postgres failed: ${error instanceof Error ? error.message : error}`);
    }
  } else {
    tried.push("no Docker engine answers (testcontainers skipped)");
  }
  return { tried };
}

let located: Promise<PostgresSearch> | undefined;

/** Discovery with the reasons kept (memoised per process), for `integrationEnv` banners. */
export function locatePostgres(): Promise<PostgresSearch> {
  located ??= search();
  return located;
}

/** The Postgres server tests should use, or undefined when none can be found. */
export async function findPostgres(): Promise<PostgresServer | undefined> {
  return (await locatePostgres()).server;
}
