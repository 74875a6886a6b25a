/**
 * Raw lru-cache as a throughput case: the baseline every L1 case is judged against. Every lookup finds a small frozen
 * value, or (`readThrough`) a miss sets it; `keys` is walked in order from where the last round stopped.
 */
import { LRUCache } from "lru-cache";
import type { ThroughputCase } from "./measure-throughput.js";

const value = Object.freeze({ id: 1 });

export function lruCacheCase(
  keys: ReadonlyArray<string>,
  options: { readonly max: number; readonly prefill: ReadonlyArray<string>; readonly readThrough?: boolean },
): ThroughputCase {
  // The loops index `keys` with a mask.
  if (keys.length === 0 || (keys.length & (keys.length - 1)) !== 0) throw new Error("keys: a power-of-two count");
  const mask = keys.length - 1;
  const cache = new LRUCache<string, { readonly id: number }>({ max: options.max });
  for (const key of options.prefill) cache.set(key, value);
  let cursor = 0;
  return {
    name: "lru-cache (raw)",
    run: options.readThrough
      ? (ops) => {
          for (let i = 0; i < ops; i++) {
            const key = keys[cursor++ & mask]!;
            if (cache.get(key) === undefined) cache.set(key, value);
          }
        }
      : (ops) => {
          let found = 0;
          for (let i = 0; i < ops; i++) if (cache.get(keys[cursor++ & mask]!) !== undefined) found++;
          if (found !== ops) throw new Error("lru-cache: expected only hits");
        },
  };
}
