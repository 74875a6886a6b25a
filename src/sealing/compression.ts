import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from "node:zlib";
import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";

/** Compression of cache values (node:zlib). */
export interface CompressionOptions {
  /**
   * `"gzip"` (level 6) or `"brotli"` (quality 4: brotli's default 11 costs milliseconds per 20 KiB).
   * @default "gzip"
   */
  readonly algorithm?: "gzip" | "brotli";
  /**
   * Values of at least this many bytes are compressed; smaller ones are stored as they are (not worth the CPU).
   * A compressed value that did not get smaller is also stored as it was.
   * @default 1024
   */
  readonly thresholdBytes?: number;
}

/** The resolved compression settings. */
export interface Compression {
  readonly algorithm: "gzip" | "brotli";
  readonly thresholdBytes: number;
}

export const DEFAULT_COMPRESSION_THRESHOLD = 1024;

/** Parses `compression` (true, or CompressionOptions); ConfigurationError naming the bad key. */
export function parseCompression(value: unknown, path: string): Compression | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { algorithm: "gzip", thresholdBytes: DEFAULT_COMPRESSION_THRESHOLD };
  if (typeof value !== "object" || value === null) {
    throw new ConfigurationError(path, `must be true or { algorithm, thresholdBytes } (got ${describeValue(value)})`);
  }
  const opts = value as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    if (key !== "algorithm" && key !== "thresholdBytes") {
      throw new ConfigurationError(`${path}.${key}`, "is not a compression option (algorithm, thresholdBytes)");
    }
  }
  const algorithm = opts.algorithm ?? "gzip";
  if (algorithm !== "gzip" && algorithm !== "brotli") {
    throw new ConfigurationError(`${path}.algorithm`, `must be "gzip" or "brotli" (got ${describeValue(algorithm)})`);
  }
  const threshold = opts.thresholdBytes ?? DEFAULT_COMPRESSION_THRESHOLD;
  if (typeof threshold !== "number" || !Number.isSafeInteger(threshold) || threshold < 0) {
    throw new ConfigurationError(`${path}.thresholdBytes`, `must be an integer >= 0 (got ${describeValue(threshold)})`);
  }
  return { algorithm, thresholdBytes: threshold };
}

export function compress(algorithm: "gzip" | "brotli", input: Buffer): Buffer {
  return algorithm === "gzip"
    ? gzipSync(input)
    : brotliCompressSync(input, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: input.length },
      });
}

/**
 * Inflates `input`; undefined when it is not a valid stream or would inflate past `maxBytes` (a planted
 * decompression bomb costs a miss, not the process's memory).
 */
export function decompress(algorithm: "gzip" | "brotli", input: Buffer, maxBytes: number): Buffer | undefined {
  try {
    return algorithm === "gzip"
      ? gunzipSync(input, { maxOutputLength: maxBytes })
      : brotliDecompressSync(input, { maxOutputLength: maxBytes });
  } catch {
    return undefined;
  }
}
