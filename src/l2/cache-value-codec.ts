import { ValidationError } from "../kernel/errors.js";

/**
 * Bytes of a key/value entry: one tag byte, then the payload. `j` = UTF-8 JSON, `b` = raw bytes.
 * The tag keeps bytes and JSON apart without base64, and marks anything else as foreign.
 */
const JSON_TAG = 0x6a; // "j"
const BYTES_TAG = 0x62; // "b"

export function encodeCacheValue(value: unknown): Buffer {
  if (value instanceof Uint8Array) {
    const out = Buffer.allocUnsafe(value.byteLength + 1);
    out[0] = BYTES_TAG;
    out.set(value, 1);
    return out;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new ValidationError(
      "cache",
      [{ path: [], message: `value is not serialisable: ${String(error)}`, code: "not_json" }],
      "value",
    );
  }
  if (json === undefined) {
    throw new ValidationError(
      "cache",
      [{ path: [], message: "value is not serialisable as JSON", code: "not_json" }],
      "value",
    );
  }
  return Buffer.from(`j${json}`, "utf8");
}

/** The stored value, or `undefined` for bytes that are not ours (counted by the caller as corrupt). */
export function decodeCacheValue(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  if (raw[0] === BYTES_TAG) return new Uint8Array(raw.buffer, raw.byteOffset + 1, raw.length - 1).slice();
  if (raw[0] !== JSON_TAG) return undefined;
  try {
    return JSON.parse(raw.toString("utf8", 1));
  } catch {
    return undefined;
  }
}
