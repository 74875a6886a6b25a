/**
 * A runtime with a leased document in its own Node process, for the cross-process fill-lease tests and the
 * stampede benchmark. Same protocol as push-peer.ts (spawn it with spawnPeer's `peerScript`); its Postgres pool is
 * wrapped so the process counts, per id, every document read it sends (an independent count of origin reads).
 *
 * Ops: create, update (→ {id, rev}); get {id, n} (n concurrent reads → distinct revs seen, null for absent);
 * getMany {ids, n} (n concurrent getMany of `ids`, each in its own shuffled order → distinct revs per id);
 * fetched (→ {selects, ids: {id: reads}}, then reset); gate {closed} (while closed, document reads run but their
 * replies are held); heldRuns (→ how many such held reads have run on the server);
 * stats (→ the document's stats, once its fills in flight have landed); stop.
 */
import pg from "pg";
import type { CacheSpecInput, RuntimeModule } from "../../src/index.js";
import { createRuntime, postgresModule, redisModule, silentLogger } from "../../src/index.js";
import { servePeer } from "./peer-protocol.js";
import { FAST_TIMING, type PushRuntimeOptions } from "./push-runtime.js";
import { productSpec } from "./strata.js";

export interface LeasePeerOptions extends PushRuntimeOptions {
  /** The document's `cache` spec (default: `{ lease: true }`). */
  readonly cache?: CacheSpecInput;
}

const options = JSON.parse(process.env.PUSH_PEER ?? "{}") as LeasePeerOptions;
const spec = productSpec(options.cache ?? { lease: true });

const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
pool.on("error", () => {});
let selects = 0;
let reads = new Map<string, number>();
let gate: Promise<void> | undefined;
let openGate: (() => void) | undefined;
/** Document reads that have run on the server while the gate was closed (their rows held). */
let heldRuns = 0;
/** The repository's get and getMany (sql-document-repository.ts), not its rev checks. */
const isDocumentRead = (text: string) => /^SELECT (?!rev )/.test(text) && /WHERE id = (\$1|ANY\(\$1)/.test(text);
/** The pool the runtime gets: counts document reads by id, and holds them while the gate is closed. */
const countingPool = {
  async query(text: string, values?: unknown[]) {
    if (isDocumentRead(text) && values !== undefined) {
      selects++;
      const ids = Array.isArray(values[0]) ? (values[0] as string[]) : [values[0] as string];
      for (const id of ids) reads.set(id, (reads.get(id) ?? 0) + 1);
      if (gate !== undefined) {
        // The statement runs now; its rows reach the runtime only when the gate opens (a slow reply).
        const result = await pool.query(text, values);
        heldRuns++;
        await gate;
        return result;
      }
    }
    return pool.query(text, values);
  },
  connect: () => pool.connect(),
};

const modules: RuntimeModule[] = [
  postgresModule({ pool: countingPool, documents: { products: { table: "products" } } }),
  redisModule({
    url: options.redisUrl,
    caches: { products: { namespace: `${options.namespace}:products`, invalidationPush: options.push ?? true } },
    invalidation: options.timing ?? FAST_TIMING,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  }),
];
const runtime = createRuntime({ modules, logger: silentLogger });
await runtime.start();
const docs = runtime.context().document.command(spec);
const query = runtime.context().document.query(spec);

interface Request {
  readonly seq: number;
  readonly op: string;
  readonly args: { id?: string; ids?: string[]; n?: number; rev?: number; price?: number; closed?: boolean };
}

function shuffled<T>(items: ReadonlyArray<T>): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function handle(op: string, args: Request["args"]): Promise<unknown> {
  switch (op) {
    case "create": {
      const doc = await docs.create({ name: "x", price: args.price ?? 0 });
      return { id: doc.id, rev: doc.rev };
    }
    case "update": {
      const doc = await docs.update(args.id as string, args.rev as number, { price: args.price ?? 0 });
      return { id: doc.id, rev: doc.rev };
    }
    case "get": {
      const all = await Promise.all(
        Array.from({ length: args.n ?? 1 }, () => query.find(args.id as string).then((doc) => doc?.rev ?? null)),
      );
      return [...new Set(all)];
    }
    case "getMany": {
      const ids = args.ids as string[];
      const all = await Promise.all(Array.from({ length: args.n ?? 1 }, () => query.getMany(shuffled(ids))));
      const revs: Record<string, number[]> = {};
      for (const batch of all) {
        for (const doc of batch) {
          revs[doc.id] = revs[doc.id] ?? [];
          revs[doc.id]!.push(doc.rev);
        }
      }
      return Object.fromEntries(Object.entries(revs).map(([id, seen]) => [id, [...new Set(seen)]]));
    }
    case "fetched": {
      const out = { selects, ids: Object.fromEntries(reads) };
      selects = 0;
      reads = new Map();
      return out;
    }
    case "heldRuns":
      return heldRuns;
    case "gate":
      if (args.closed === true && gate === undefined) {
        gate = new Promise<void>((resolve) => {
          openGate = resolve;
        });
      } else if (args.closed !== true) {
        openGate?.();
        gate = undefined;
      }
      return null;
    case "stats":
      await runtime.settled(); // fills land behind the reads that answered: count them too
      return query.stats();
    default:
      throw new Error(`unknown op ${op}`);
  }
}

servePeer(handle, async () => {
  openGate?.();
  await runtime.stop();
  await pool.end();
});
