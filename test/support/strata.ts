/**
 * Builders shared by the runtime-level integration tests: a products document, runtimes wired to the file's
 * Postgres database and Redis, a manual clock, and a statement counter.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type {
  CacheSpecInput,
  ChangeRelayOptions,
  Clock,
  DocumentSpec,
  KeyringOptions,
  Logger,
  PushTiming,
  Runtime,
  RuntimeModule,
} from "../../src/index.js";
import {
  createRuntime,
  defineDocument,
  memoryCacheModule,
  postgresModule,
  redisModule,
  silentLogger,
} from "../../src/index.js";
import { entryPrefix, idKey, idleClockPrefix, versionFloorPrefix } from "../../src/l2/key-layout.js";
import { seededRandom } from "./seeded-random.js";

export const productFields = z.object({
  name: z.string(),
  price: z.number().int(),
  tags: z.array(z.string()).optional(),
});

export function productSpec(cache: CacheSpecInput | undefined = {}, name = "products") {
  return defineDocument({ name, fields: productFields, ...(cache === undefined ? {} : { cache }) });
}

/** Counts statements by kind; `selects` counts reads of the document table only. */
export class QueryCounter {
  readonly statements: string[] = [];
  readonly onQuery = (sql: string) => {
    this.statements.push(sql);
  };
  get selects(): number {
    return this.statements.filter((sql) => /^\s*select\b/i.test(sql) && /\bfrom\b/i.test(sql)).length;
  }
  reset(): void {
    this.statements.length = 0;
  }
}

/** The tests' one fake clock: time moves only when the test says so; `random` is the seeded PRNG. */
export class ManualClock implements Clock {
  #now: number;
  readonly #seeded: () => number;
  constructor(start = Date.UTC(2026, 0, 1), seed = 42) {
    this.#now = start;
    this.#seeded = seededRandom(seed);
  }
  now = (): number => this.#now;
  random = (): number => this.#seeded();
  advance(ms: number): void {
    this.#now += ms;
  }
}

/**
 * A manual clock that also moves by `fetchCostMs` whenever a document SELECT is sent (what XFetch measures as delta;
 * wire `onQuery` into postgresModule), and whose random draws the test can script: `randoms` are handed out in order,
 * then `fixedRandom` when set, then the seeded PRNG (seed 99).
 */
export class FetchCostClock extends ManualClock {
  randoms: number[] = [];
  fixedRandom: number | undefined;
  readonly #seeded = seededRandom(99);
  constructor(
    start: number,
    public fetchCostMs: number,
  ) {
    super(start);
  }
  override random = (): number => this.randoms.shift() ?? this.fixedRandom ?? this.#seeded();
  onQuery = (sql: string) => {
    if (/^\s*select\b/i.test(sql) && /\bfrom\b/i.test(sql)) this.advance(this.fetchCostMs);
  };
}

export interface RuntimeWiring {
  /** The file's database url, or "pglite" for a fresh embedded database (PGlite). */
  readonly databaseUrl: string | "pglite";
  /** A redis:// url, or "memory" for the in-process L2, or undefined for no cache module. */
  readonly redis: string | "memory" | undefined;
  readonly namespace?: string;
  readonly documents?: ReadonlyArray<string>;
  readonly onQuery?: (sql: string) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly redisTimeoutMs?: number;
  readonly invalidationPush?: boolean;
  readonly refreshConcurrency?: number;
  readonly queryTimeoutMs?: number;
  /** Push timing handed to redisModule's `invalidation` option. */
  readonly pushTiming?: Partial<PushTiming>;
  /** `maxValueBytes` of every cache. */
  readonly maxValueBytes?: number;
  /** Sealing and tenancy options merged into every cache route (`encryption`, `compression`, `tenancy`). */
  readonly cacheOptions?: Readonly<Record<string, unknown>>;
  /** postgresModule's `encryption` keyring (sealed fields). */
  readonly postgresEncryption?: unknown;
  /** `changeCapture` of every routed document. */
  readonly changeCapture?: "outbox" | "logical";
  /** postgresModule's `changeRelay`. */
  readonly changeRelay?: ChangeRelayOptions;
  /** Specs listed in createRuntime({ documents }) (a relaying runtime must list its captured documents). */
  readonly specs?: ReadonlyArray<DocumentSpec>;
}

/** A started runtime routing `products` (and any other names given) to tables of the file's database. */
export async function startRuntime(wiring: RuntimeWiring): Promise<Runtime> {
  const runtime = createRuntime({
    modules: runtimeModules(wiring),
    logger: wiring.logger ?? silentLogger,
    ...(wiring.clock ? { clock: wiring.clock } : {}),
    ...(wiring.refreshConcurrency ? { refreshConcurrency: wiring.refreshConcurrency } : {}),
    ...(wiring.specs ? { documents: wiring.specs } : {}),
  });
  await runtime.start();
  return runtime;
}

/**
 * The modules of a wiring: Postgres routing each document to its table, and the cache module chosen by `redis`
 * (caches on `<namespace>:<document>`).
 */
export function runtimeModules(wiring: RuntimeWiring): RuntimeModule[] {
  const names = wiring.documents ?? ["products"];
  const namespace = wiring.namespace ?? `t:${randomUUID().slice(0, 8)}`;
  const modules: RuntimeModule[] = [
    postgresModule({
      ...(wiring.databaseUrl === "pglite" ? { pglite: true as const } : { url: wiring.databaseUrl }),
      documents: Object.fromEntries(
        names.map((name) => [
          name,
          { table: name, ...(wiring.changeCapture ? { changeCapture: wiring.changeCapture } : {}) },
        ]),
      ),
      ...(wiring.changeRelay ? { changeRelay: wiring.changeRelay } : {}),
      ...(wiring.onQuery ? { onQuery: wiring.onQuery } : {}),
      ...(wiring.queryTimeoutMs ? { queryTimeoutMs: wiring.queryTimeoutMs } : {}),
      ...(wiring.postgresEncryption ? { encryption: wiring.postgresEncryption as KeyringOptions } : {}),
    }),
  ];
  const limit = {
    ...(wiring.maxValueBytes === undefined ? {} : { maxValueBytes: wiring.maxValueBytes }),
    ...wiring.cacheOptions,
  };
  const caches = Object.fromEntries(names.map((name) => [name, { namespace: `${namespace}:${name}`, ...limit }]));
  if (wiring.redis === "memory") modules.push(memoryCacheModule({ caches }));
  else if (wiring.redis !== undefined) {
    const push = wiring.invalidationPush ?? false;
    modules.push(
      redisModule({
        url: wiring.redis,
        caches: Object.fromEntries(Object.entries(caches).map(([k, v]) => [k, { ...v, invalidationPush: push }])),
        ...(wiring.pushTiming ? { invalidation: wiring.pushTiming } : {}),
        ...(wiring.redisTimeoutMs !== undefined ? { timeoutMs: wiring.redisTimeoutMs } : {}),
      }),
    );
  }
  return modules;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The Redis key of a document entry for runtimes wired here (cache namespace `<namespace>:<document>`), built on
 * the library's own key layout so tests never restate it.
 */
export function entryKey(namespace: string, spec: Pick<DocumentSpec, "name" | "fingerprint">, id: string): string {
  return idKey(entryPrefix(`${namespace}:${spec.name}`, spec.fingerprint), id);
}

/** The version floor key of a document entry, beside `entryKey` (what the fence keeps stale fills out with). */
export function versionFloorKey(
  namespace: string,
  spec: Pick<DocumentSpec, "name" | "fingerprint">,
  id: string,
): string {
  return idKey(versionFloorPrefix(`${namespace}:${spec.name}`, spec.fingerprint), id);
}

/** The idle-clock key of a sliding entry, beside `entryKey` (same hash slot, outside the tracked prefix). */
export function idleClockKey(namespace: string, spec: Pick<DocumentSpec, "name" | "fingerprint">, id: string): string {
  return idKey(idleClockPrefix(`${namespace}:${spec.name}`, spec.fingerprint), id);
}
