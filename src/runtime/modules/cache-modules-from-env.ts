import { didYouMean } from "../../kernel/did-you-mean.js";
import { ConfigurationError } from "../../kernel/errors.js";
import type { CacheModule } from "../module.js";
import { memoryCacheModule } from "./memory-cache-module.js";
import { nullCacheModule } from "./null-cache-module.js";
import type { RedisCacheOptions } from "./redis-module.js";
import { redisModule } from "./redis-module.js";

/** The variable suffixes `cacheModulesFromEnv` reads, per cache: `STRATA_CACHE_<NAME>_<SUFFIX>`. */
const SUFFIXES = [
  "DRIVER",
  "URL",
  "NAMESPACE",
  "TTL",
  "PUSH",
  "MAX_VALUE_BYTES",
  "L1_TTL",
  "L1_CAPACITY",
  "L1_POLICY",
] as const;
type Suffix = (typeof SUFFIXES)[number];

/** The module option each suffix becomes, to name the variable in an error about that option. */
const OPTION_OF: Readonly<Record<string, Suffix>> = {
  namespace: "NAMESPACE",
  ttl: "TTL",
  invalidationPush: "PUSH",
  maxValueBytes: "MAX_VALUE_BYTES",
  "l1.ttl": "L1_TTL",
  "l1.capacity": "L1_CAPACITY",
  "l1.policy": "L1_POLICY",
  url: "URL",
};

const PREFIX = "STRATA_CACHE_";

/**
 * Cache modules from environment variables, one cache per `STRATA_CACHE_<NAME>_DRIVER` (or `_URL`): `_DRIVER` is
 * `redis` (the default when `_URL` is set), `memory` or `null`; `_URL` the redis:// url (caches with one url share
 * one connection); `_NAMESPACE` (default: the name), `_TTL` (a duration), `_PUSH` (`true`/`false`),
 * `_MAX_VALUE_BYTES`, `_L1_TTL`, `_L1_CAPACITY`, `_L1_POLICY`. The cache name is `<NAME>` lower-cased
 * (`STRATA_CACHE_USER_SESSIONS_URL` → `user_sessions`). The same checks as code configuration run, and a refusal
 * names the variable (ConfigurationError with `path` = the variable). An unknown `STRATA_CACHE_*` variable is
 * refused too, with a did-you-mean.
 *
 * @example
 * ```ts
 * import { cacheModulesFromEnv, createRuntime } from "stratacache";
 *
 * // STRATA_CACHE_SESSIONS_URL=redis://127.0.0.1:6379  STRATA_CACHE_SESSIONS_TTL=30m
 * // STRATA_CACHE_SCRATCH_DRIVER=memory
 * const runtime = createRuntime({ modules: cacheModulesFromEnv(process.env) });
 * ```
 */
export function cacheModulesFromEnv(env: Readonly<Record<string, string | undefined>>): CacheModule[] {
  const caches = new Map<string, Partial<Record<Suffix, string>>>();
  const names = Object.keys(env)
    .filter((key) => key.startsWith(PREFIX) && env[key] !== undefined)
    .sort();
  // Longest suffix first: `_L1_TTL` must not be read as a cache named `<NAME>_L1` with `_TTL`.
  const bySize = [...SUFFIXES].sort((a, b) => b.length - a.length);
  for (const variable of names) {
    const rest = variable.slice(PREFIX.length);
    const suffix = bySize.find((s) => rest.endsWith(`_${s}`) && rest.length > s.length + 1);
    if (suffix === undefined) {
      const tail = rest.slice(rest.lastIndexOf("_") + 1);
      const guess = didYouMean(tail, SUFFIXES);
      throw new ConfigurationError(
        variable,
        `is not a cache setting: expected STRATA_CACHE_<NAME>_<${SUFFIXES.join("|")}>${guess ? ` (did you mean _${guess}?)` : ""}`,
      );
    }
    const name = rest.slice(0, -(suffix.length + 1)).toLowerCase();
    const settings = caches.get(name) ?? {};
    settings[suffix] = env[variable] as string;
    caches.set(name, settings);
  }
  const byUrl = new Map<string, Record<string, RedisCacheOptions>>();
  const memory: Record<string, object> = {};
  const nulls: Record<string, object> = {};
  const variableOf = new Map<string, string>(); // cache name → its variables' stem, for error paths
  for (const [name, settings] of caches) {
    const stem = `${PREFIX}${name.toUpperCase()}`;
    variableOf.set(name, stem);
    const driver = settings.DRIVER ?? (settings.URL !== undefined ? "redis" : undefined);
    const route = routeOptions(settings, stem);
    if (driver === "redis") {
      if (settings.URL === undefined) throw new ConfigurationError(`${stem}_URL`, "is required with DRIVER=redis");
      const group = byUrl.get(settings.URL) ?? {};
      group[name] = { namespace: settings.NAMESPACE ?? name, ...route } as RedisCacheOptions;
      byUrl.set(settings.URL, group);
    } else if (driver === "memory" || driver === "null") {
      if (settings.URL !== undefined) {
        throw new ConfigurationError(`${stem}_URL`, `has no meaning with DRIVER=${driver}`);
      }
      if (driver === "null") {
        nulls[name] = settings.NAMESPACE === undefined ? {} : { namespace: settings.NAMESPACE };
        if (Object.keys(route).length > 0) {
          throw new ConfigurationError(
            `${stem}_DRIVER`,
            "null stores nothing: drop its TTL, PUSH, L1 and size settings",
          );
        }
      } else {
        if (route.invalidationPush !== undefined) {
          throw new ConfigurationError(`${stem}_PUSH`, "needs DRIVER=redis (memory is one process)");
        }
        memory[name] = { ...(settings.NAMESPACE === undefined ? {} : { namespace: settings.NAMESPACE }), ...route };
      }
    } else {
      throw new ConfigurationError(
        `${stem}_DRIVER`,
        driver === undefined ? "or _URL must be set" : `must be redis, memory or null (got "${driver}")`,
      );
    }
  }
  const modules: CacheModule[] = [];
  const build = (make: () => CacheModule) => {
    try {
      modules.push(make());
    } catch (error) {
      throw renamed(error, variableOf);
    }
  };
  for (const [url, group] of byUrl) build(() => redisModule({ url, caches: group }));
  if (Object.keys(memory).length > 0) build(() => memoryCacheModule({ caches: memory as never }));
  if (Object.keys(nulls).length > 0) build(() => nullCacheModule({ caches: nulls }));
  return modules;
}

function routeOptions(settings: Partial<Record<Suffix, string>>, stem: string): Record<string, unknown> {
  const route: Record<string, unknown> = {};
  if (settings.TTL !== undefined) route.ttl = numberOrDuration(settings.TTL);
  if (settings.PUSH !== undefined) {
    if (settings.PUSH !== "true" && settings.PUSH !== "false") {
      throw new ConfigurationError(`${stem}_PUSH`, `must be true or false (got "${settings.PUSH}")`);
    }
    route.invalidationPush = settings.PUSH === "true";
  }
  if (settings.MAX_VALUE_BYTES !== undefined) route.maxValueBytes = Number(settings.MAX_VALUE_BYTES);
  if (settings.L1_TTL !== undefined || settings.L1_CAPACITY !== undefined || settings.L1_POLICY !== undefined) {
    route.l1 = {
      ...(settings.L1_TTL === undefined ? {} : { ttl: numberOrDuration(settings.L1_TTL) }),
      ...(settings.L1_CAPACITY === undefined ? {} : { capacity: Number(settings.L1_CAPACITY) }),
      ...(settings.L1_POLICY === undefined ? {} : { policy: settings.L1_POLICY }),
    };
  }
  return route;
}

/** "250" is milliseconds, as in code; anything else is left to the duration check. */
function numberOrDuration(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** A module's ConfigurationError about `<module>.caches.<name>.<option>`, renamed to the variable that set it. */
function renamed(error: unknown, variableOf: ReadonlyMap<string, string>): unknown {
  if (!(error instanceof ConfigurationError)) return error;
  const match = /^\w+\.caches\.([^.]+)\.(.+)$/.exec(error.path);
  if (match === null) {
    const url = /^redisModule\.url$/.test(error.path);
    return url ? new ConfigurationError("STRATA_CACHE_<NAME>_URL", error.rule) : error;
  }
  const stem = variableOf.get(match[1] as string);
  const suffix = OPTION_OF[match[2] as string];
  return stem === undefined || suffix === undefined ? error : new ConfigurationError(`${stem}_${suffix}`, error.rule);
}
