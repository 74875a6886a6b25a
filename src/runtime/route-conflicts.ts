/**
 * The rules that keep two routes from silently sharing data, each with its message: one table per document, one
 * Redis namespace per cache route, one cache route per document, one spec per document name.
 *
 * "Same place" is decided from what the modules were given, at construction:
 * - Postgres: the same `pool` or PGlite object, or urls naming the same host, port and database (host compared as
 *   written, lowercased). `pglite: true` is always its own place. With several postgresModules, start() checks again
 *   with what each opened server reports (`openedTableRoutes`), which catches `localhost` vs `127.0.0.1` or a url
 *   and a pool reaching one database.
 * - Redis: the same client object, or urls (or a client's own host/port/db options) naming the same host, port and
 *   database number. Each `memoryCacheModule` has its own keyspace, so only its own routes can collide.
 * - Namespaces collide when equal, or when one is the other followed by `:` or `|`: every key stratacache writes
 *   for namespace `a` starts with `a:` or `a|`, so `a` and `a:kv` could hold each other's keys.
 */

import { ConfigurationError } from "../kernel/errors.js";
import type { Database, TableRef } from "../repository/document-repository.js";
import type { CacheSpec, DocumentSpec } from "../spec/document-spec.js";
import type { CacheModule, DocumentsModule } from "./module.js";

/** Where a module's data lives: equal strings, or the same object, are one place. */
export type DataLocation = string | object;

/** One document route as the conflict checks see it. */
export interface TableRoute {
  readonly module: string;
  readonly location: DataLocation;
  readonly document: string;
  readonly table: TableRef;
}

/** One cache route as the conflict checks see it. */
export interface NamespaceRoute {
  readonly module: string;
  readonly location: DataLocation;
  readonly cache: string;
  readonly namespace: string;
}

/** The construction-time checks of `createRuntime`: tables by where each module says its database is, namespaces. */
export function checkModuleRoutes(documents: ReadonlyArray<DocumentsModule>, caches: ReadonlyArray<CacheModule>): void {
  checkTableRoutes(
    documents.flatMap((m) =>
      [...m.routes].map(([document, table]) => ({ module: "postgresModule", location: m.location, document, table })),
    ),
  );
  checkNamespaceRoutes(caches.flatMap((m) => m.namespaces));
}

/** Two documents routed to one table would read and overwrite each other's rows. */
export function checkTableRoutes(routes: ReadonlyArray<TableRoute>): void {
  const seen: TableRoute[] = [];
  for (const route of routes) {
    const other = seen.find(
      (s) =>
        s.location === route.location && s.table.schema === route.table.schema && s.table.table === route.table.table,
    );
    if (other !== undefined) {
      throw new ConfigurationError(
        `${route.module}.documents.${route.document}.table`,
        `routes document "${route.document}" to table ${tableName(route.table)}, which document "${other.document}" ` +
          `(${other.module}) already uses in the same database; one table holds one document type, give each its own table`,
      );
    }
    seen.push(route);
  }
}

/**
 * A module's routes located by what the opened database says it is, so two urls that spell one database differently
 * (`localhost` and `127.0.0.1`, a url and a pool) are caught at start, before anything is migrated.
 */
export async function openedTableRoutes(
  routes: ReadonlyMap<string, TableRef>,
  fallback: DataLocation,
  database: Database,
): Promise<TableRoute[]> {
  const location = (await database.identity()) ?? fallback;
  return [...routes].map(([document, table]) => ({ module: "postgresModule", location, document, table }));
}

/** Two cache routes on one namespace of one server would read each other's entries and key/value pairs. */
export function checkNamespaceRoutes(routes: ReadonlyArray<NamespaceRoute>): void {
  const seen: NamespaceRoute[] = [];
  for (const route of routes) {
    const other = seen.find((s) => s.location === route.location && namespacesOverlap(s.namespace, route.namespace));
    if (other !== undefined) {
      const how = other.namespace === route.namespace ? "the same namespace as" : "a namespace overlapping";
      throw new ConfigurationError(
        `${route.module}.caches.${route.cache}.namespace`,
        `gives cache "${route.cache}" namespace "${route.namespace}", ${how} cache "${other.cache}" ` +
          `("${other.namespace}", ${other.module}) on the same server; give each cache its own namespace`,
      );
    }
    seen.push(route);
  }
}

export function namespacesOverlap(a: string, b: string): boolean {
  return a === b || contains(a, b) || contains(b, a);
}

function contains(outer: string, inner: string): boolean {
  return inner.startsWith(`${outer}:`) || inner.startsWith(`${outer}|`);
}

/**
 * Two documents on one cache route: entry keys carry the fields' fingerprint but not the document name, so two
 * documents of the same shape would serve each other's entries for the same id.
 */
export function sharedCacheRouteError(document: string, other: string, cache: string): ConfigurationError {
  return new ConfigurationError(
    `documents.${document}.cache.name`,
    `routes document "${document}" to cache "${cache}", which document "${other}" already uses; ` +
      `a cache route holds one document type: give "${document}" its own cache name and route it to its own namespace`,
  );
}

/**
 * The specs listed in `createRuntime({ documents })`, checked at construction so a refused runtime opens nothing:
 * one spec per name, one document per routed cache name. Documents met later are checked by the registry.
 */
export function checkListedDocuments(specs: ReadonlyArray<DocumentSpec>, routedCaches: ReadonlyArray<string>): void {
  const byName = new Map<string, DocumentSpec>();
  const byCache = new Map<string, DocumentSpec>();
  for (const spec of specs) {
    const known = byName.get(spec.name);
    if (known !== undefined) {
      const conflict = specConflictError(known, spec);
      if (conflict !== undefined) throw conflict;
      continue;
    }
    byName.set(spec.name, spec);
    const cache = spec.cache?.name;
    if (cache === undefined || !routedCaches.includes(cache)) continue;
    const other = byCache.get(cache);
    if (other !== undefined) throw sharedCacheRouteError(spec.name, other.name, cache);
    byCache.set(cache, spec);
  }
}

/** Why `spec` cannot share its name with `known` on one runtime, or undefined when they are the same spec. */
export function specConflictError(known: DocumentSpec, spec: DocumentSpec): ConfigurationError | undefined {
  if (known === spec) return undefined;
  const name = spec.name;
  if (known.fingerprint !== spec.fingerprint) {
    return new ConfigurationError(
      `documents.${name}`,
      `is defined twice with different fields (fingerprints ${known.fingerprint} and ${spec.fingerprint}) on one ` +
        `runtime; both would use one table and cache: define the document once and share the spec`,
    );
  }
  if ((known.tenantScoped === true) !== (spec.tenantScoped === true)) {
    return new ConfigurationError(
      `documents.${name}.tenantScoped`,
      "is defined twice, once tenant-scoped and once not, on one runtime: define the document once and share the spec",
    );
  }
  if (String(known.sealedFields ?? []) !== String(spec.sealedFields ?? [])) {
    return new ConfigurationError(
      `documents.${name}.sealedFields`,
      "is defined twice with different sealed fields on one runtime: define the document once and share the spec",
    );
  }
  if (!sameCacheSpec(known.cache, spec.cache)) {
    return new ConfigurationError(
      `documents.${name}.cache`,
      `is defined twice with different cache specs (${cacheDifference(known.cache, spec.cache)}) on one runtime; ` +
        "the second would silently get the first's cache: define the document once and share the spec",
    );
  }
  return undefined;
}

/** Equal when every setting is equal; an L1 policy factory compares by identity. */
export function sameCacheSpec(a: CacheSpec | undefined, b: CacheSpec | undefined): boolean {
  return canonical(a) === canonical(b);
}

/** The settings that differ, e.g. `ttlMs 300000 vs 60000`. */
function cacheDifference(a: CacheSpec | undefined, b: CacheSpec | undefined): string {
  if (a === undefined || b === undefined) return a === undefined ? "uncached vs cached" : "cached vs uncached";
  return (Object.keys(a) as Array<keyof CacheSpec>)
    .filter((key) => canonical(a[key]) !== canonical(b[key]))
    .map((key) => `${key} ${canonical(a[key])} vs ${canonical(b[key])}`)
    .join(", ");
}

/** Functions (L1 policy factories) are told apart by identity. */
const functionIds = new WeakMap<object, number>();
let nextFunctionId = 1;

function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "function") {
        if (!functionIds.has(v)) functionIds.set(v, nextFunctionId++);
        return `function#${functionIds.get(v)}`;
      }
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        return Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
      }
      return v;
    }) ?? "undefined"
  );
}

function tableName(table: TableRef): string {
  return `${table.schema}.${table.table}`;
}

/** The place a `postgres://` url names: host, port and database (the user's name when the url names none). */
export function postgresUrlLocation(url: string): DataLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const database = decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username);
  return `postgres://${parsed.hostname.toLowerCase()}:${parsed.port || "5432"}/${database}`;
}

/** The place a Redis server and database number name. */
export function redisLocation(host: string, port: number | string | undefined, db: number): string {
  return `redis://${host.toLowerCase()}:${port || "6379"}/${db}`;
}
