/**
 * The database number of a `redis://` url. ioredis sends SELECT on connect, and when the server refuses it (a number
 * at or above the server's `databases` setting) it only emits an error and carries on in database 0 — where this
 * cache would then mix with whatever else lives there. So the number is checked here, and the server's answer at
 * start and on every reconnect.
 */
import type { Redis } from "ioredis";
import { describeValue } from "../../kernel/config-object.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { Logger } from "../../kernel/logger.js";

const PATH = "redisModule.url";

/** The database a url names, read as ioredis reads it (the path, else `?db=`); 0 when it names none. */
export function redisUrlDatabase(url: string): number {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(PATH, "must be a valid redis:// or rediss:// url");
  }
  const raw = parsed.pathname.length > 1 ? parsed.pathname.slice(1) : parsed.searchParams.get("db");
  if (raw === null || raw === "") return 0;
  if (!/^\d{1,9}$/.test(raw)) {
    // ioredis would parse "abc" as NaN and skip SELECT, silently using database 0.
    throw new ConfigurationError(
      PATH,
      `must name a database by number, like redis://host:6379/2 (got ${describeValue(raw)})`,
    );
  }
  return Number(raw);
}

/** The server refused SELECT: the url names a database it does not have (or SELECT is not allowed, as in a cluster). */
export function isMissingDatabaseReply(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== "ReplyError") return false;
  return /\bDB index is out of range\b|\bSELECT is not allowed\b/i.test(error.message);
}

export function missingDatabaseError(database: number, reply: string): ConfigurationError {
  return new ConfigurationError(
    PATH,
    `names database ${database}, which this Redis server refuses (${reply}); ioredis would silently use database 0. ` +
      "Use a number below the server's `databases` setting (default 16), or 0 on a cluster",
  );
}

/**
 * Watches the SELECT of every (re)connect of a client stratacache owns: a refusal disconnects it for good (reads go
 * to Postgres) rather than let it work in database 0. Returns the start-time check, to await once connected: it
 * throws a ConfigurationError when the server refused the number, and lets other failures pass (a timeout or a
 * dropped connection says nothing about the number; the runtime then runs as with Redis down).
 */
export function guardDatabase(client: Redis, database: number, logger: Logger): () => Promise<void> {
  if (database === 0) return async () => {};
  let refused: Error | undefined;
  client.on("error", (error: unknown) => {
    if (refused !== undefined || !isMissingDatabaseReply(error)) return;
    refused = error as Error;
    logger.error("redis refused the database the url names; the cache is off", { database, error: refused.message });
    client.disconnect();
  });
  return async () => {
    if (refused === undefined && client.status === "ready") {
      try {
        await client.select(database);
      } catch (error) {
        if (isMissingDatabaseReply(error)) refused = error as Error;
      }
    }
    if (refused !== undefined) throw missingDatabaseError(database, refused.message);
  };
}
