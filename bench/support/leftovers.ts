/** Removes what a benchmark created on the servers it ran against (which may be the developer's own). */
import { Redis } from "ioredis";
import pg from "pg";

/** Drops `tables` and deletes every Redis key matching `keyPattern` (a SCAN MATCH glob). Best effort. */
export async function removeBenchData(
  databaseUrl: string,
  redisUrl: string,
  what: { readonly tables: ReadonlyArray<string>; readonly keyPattern: string },
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on("error", () => {});
  try {
    await client.connect();
    for (const table of what.tables) await client.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(table)}`);
  } catch (error) {
    console.warn(`could not drop ${what.tables.join(", ")}: ${error instanceof Error ? error.message : error}`);
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", what.keyPattern, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } catch (error) {
    console.warn(`could not delete ${what.keyPattern}: ${error instanceof Error ? error.message : error}`);
  } finally {
    redis.disconnect();
  }
}
