/**
 * A private Postgres server for tests whose settings differ from the shared one (e.g. `wal_level=logical` for
 * change capture): initdb into a temp dir, then `pg_ctl start` on a free loopback port, with `stop()` removing it
 * all. Started once per test file (initdb takes a few seconds). As root, the binaries run as the `postgres` user
 * (initdb refuses root). Undefined when the binaries are missing.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { chown } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./net.js";

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth on loopback). */
  readonly url: string;
  readonly port: number;
  /** Runs SQL as the superuser through psql (for settings that need a reload). */
  psql(sql: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its data directory. Idempotent. */
  stop(): Promise<void>;
}

/** `settings`: `-c name=value` pairs for the server. */
export async function startPrivatePostgres(
  settings: Record<string, string> = {},
): Promise<PrivatePostgres | undefined> {
  if (!existsSync(join(BIN, "initdb"))) return undefined;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "strata-pg-"));
  if (asRoot) await chown(dir, Number((await run("id", ["-u", "postgres"])).stdout), 0);
  const exec = (bin: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(BIN, bin), ...args]) : run(join(BIN, bin), args);
  const data = join(dir, "data");
  await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = Object.entries({
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    fsync: "off",
    ...settings,
  })
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(" ");
  await exec("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    psql: async (sql) =>
      (await run(join(BIN, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-Atc", sql])).stdout,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
