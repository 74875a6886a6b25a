import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** One access trace: the keys in access order. */
export interface Trace {
  readonly name: string;
  readonly keys: Float64Array;
  readonly distinct: number;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The shared traces live beside the checkout (../shared/traces), not in it: research data, not ours to ship. */
export const TRACES_DIR = path.resolve(REPO_ROOT, "../shared/traces");

/** Trace names, as in the published hit-ratio tables, and the file holding each. */
export const TRACE_FILES: Readonly<Record<string, string>> = {
  gli: "gli.trace.gz",
  OLTP: "OLTP.lis.gz",
  multi2: "multi2.trace.gz",
  loop: "loop.trace.gz",
  "2_pools": "2_pools.trace.gz",
  ps: "ps.trace.gz",
  cs: "cs.trace.gz",
  cpp: "cpp.trace.gz",
};

export async function loadTrace(name: string, dir = TRACES_DIR): Promise<Trace> {
  const file = TRACE_FILES[name];
  if (file === undefined) throw new Error(`unknown trace ${name}`);
  const text = gunzipSync(await readFile(path.join(dir, file))).toString("latin1");
  const keys = file.endsWith(".lis.gz") ? parseArcTrace(text) : parseLirsTrace(text);
  return { name, keys, distinct: new Set(keys).size };
}

/** LIRS format: one integer key per line; `*` lines are checkpoint markers; blank lines and CRs are noise. */
export function parseLirsTrace(text: string): Float64Array {
  const keys: number[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line === "*") continue;
    const key = Number(line);
    if (!Number.isFinite(key)) throw new Error(`bad LIRS trace line ${JSON.stringify(raw)}`);
    keys.push(key);
  }
  return Float64Array.from(keys);
}

/** ARC format: `start count ignored requestNo` per line, meaning the keys start … start+count-1. */
export function parseArcTrace(text: string): Float64Array {
  const keys: number[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const [startText, countText] = line.split(/\s+/);
    const start = Number(startText);
    const count = Number(countText);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || count < 0) {
      throw new Error(`bad ARC trace line ${JSON.stringify(raw)}`);
    }
    for (let i = 0; i < count; i++) keys.push(start + i);
  }
  return Float64Array.from(keys);
}
