/**
 * Recency-biased synthetic traces for the L1 policy simulator (bench/l1-policies.ts): workloads on which a
 * frequency filter hurts, so the adaptive window has to grow to keep W-TinyLFU near LRU. Deterministic (seeded).
 *
 * - `drift-w<W>-s<step>`: a working set of W keys that slides forward one key every `step` accesses, uniform in it.
 * - `bursts-k<k>-n<span>`: new keys, each read k times while about `span` keys are live, then never again.
 * - `loop-and-drift`: half the accesses loop over 1,500 keys, half go to a drifting set.
 */
import type { Trace } from "./traces.js";

const ACCESSES = 200_000;

export const SYNTHETIC_TRACES: Readonly<Record<string, () => Float64Array>> = {
  "drift-w800-s2": () => drift(800, 2, 1),
  "drift-w2000-s1": () => drift(2000, 1, 2),
  "drift-w500-s8": () => drift(500, 8, 3),
  "bursts-k4-n300": () => bursts(4, 300, 4),
  "bursts-k8-n1500": () => bursts(8, 1500, 5),
  "loop-and-drift": () => loopAndDrift(1500, 600, 2, 6),
};

export function syntheticTrace(name: string): Trace {
  const make = SYNTHETIC_TRACES[name];
  if (make === undefined) throw new Error(`unknown synthetic trace ${name}`);
  const keys = make();
  return { name, keys, distinct: new Set(keys).size };
}

function drift(width: number, step: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const out = new Float64Array(ACCESSES);
  for (let i = 0; i < ACCESSES; i++) out[i] = Math.floor(i / step) + Math.floor(random() * width);
  return out;
}

function bursts(reads: number, span: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const out = new Float64Array(ACCESSES);
  const live: Array<[key: number, left: number]> = [];
  let next = 0;
  for (let i = 0; i < ACCESSES; i++) {
    if (live.length < span) live.push([next++, reads]);
    const at = Math.floor(random() * live.length);
    const item = live[at]!;
    out[i] = item[0];
    if (--item[1] === 0) live.splice(at, 1);
  }
  return out;
}

function loopAndDrift(loop: number, width: number, step: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const drifting = drift(width, step, seed + 1);
  const out = new Float64Array(ACCESSES);
  let position = 0;
  for (let i = 0; i < ACCESSES; i++) out[i] = random() < 0.5 ? 1e9 + (position++ % loop) : drifting[i]!;
  return out;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
