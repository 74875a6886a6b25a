/**
 * A child process of coordination-faults.test.ts: for each backend it is given (Redis, the Postgres cache table; the
 * namespace comes from the parent), `count` contenders take one lock and, under it only, increment a counter row
 * with a read then a write — a lost update unless the lock excludes every other holder in every process — logging
 * each new value with the holder's fencing token. Prints `ready`, waits for a line on stdin (so every process
 * contends from the first request), then prints `{"done":n}` and exits.
 */
import { createInterface } from "node:readline";
import pg from "pg";
import { type CoordinationKind, openCoordination } from "./coordination-backends.js";

interface ContenderJob {
  readonly kinds: ReadonlyArray<CoordinationKind>;
  readonly redisUrl: string;
  readonly databaseUrl: string;
  readonly namespace: string;
  /** The lock key (and counter row) is `<key>-<kind>`. */
  readonly key: string;
  readonly count: number;
}

const job = JSON.parse(process.env.LOCK_CONTENDERS ?? "{}") as ContenderJob;
const backends = await Promise.all(job.kinds.map((kind) => openCoordination(kind, job, undefined, job.namespace)));
const db = new pg.Pool({ connectionString: job.databaseUrl, max: 8 });
await db.query("SELECT 1");
process.stdout.write("ready\n");
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
let done = 0;
await Promise.all(
  backends.flatMap((backend) => {
    const api = backend.api();
    const key = `${job.key}-${backend.kind}`;
    return Array.from({ length: job.count }, () =>
      api.withLock(
        key,
        async (lock) => {
          const { rows } = await db.query<{ n: number }>("SELECT n FROM lock_counter WHERE name = $1", [key]);
          const next = rows[0]!.n + 1;
          await db.query("UPDATE lock_counter SET n = $2 WHERE name = $1", [key, next]);
          await db.query("INSERT INTO lock_log (name, n, token) VALUES ($1, $2, $3)", [key, next, lock.fencingToken]);
          done++;
        },
        { ttl: "30s", wait: "120s", retry: { initial: 2, max: 25 } },
      ),
    );
  }),
);
await db.end();
for (const backend of backends) await backend.close();
process.stdout.write(`${JSON.stringify({ done })}\n`);
process.exit(0);
