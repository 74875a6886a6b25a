import { decrypt, encryptInto, NONCE_BYTES, TAG_BYTES } from "./aead.js";
import type { Compression } from "./compression.js";
import { compress, decompress } from "./compression.js";
import type { Keyring } from "./keyring.js";
import type { SealingStats } from "./sealing-stats.js";
import { SealingCounters } from "./sealing-stats.js";

/**
 * The bytes of a sealed value:
 *
 *   0x01 | flags | [key id length | key id | nonce(12) | ciphertext | tag(16)]   (encrypted)
 *   0x01 | flags | payload                                                      (compressed only)
 *
 * flags: bit 0 gzip, bit 1 brotli, bit 2 AES-256-GCM. Compression runs before encryption (ciphertext does not
 * compress). The associated data is the caller's — where the value lives: namespace, tenant, id or key, and for
 * documents the version header — followed by this header, so a value moved anywhere else, a swapped key id or a
 * changed flag fails authentication. The flags make mixed values (compressed or not) read back.
 */
const FORMAT = 0x01;
const GZIP = 1;
const BROTLI = 2;
const ENCRYPTED = 4;

export type OpenFailure = "auth" | "unknown-key" | "corrupt";

/** What a route seals with: a keyring (encrypt), compression, or both. */
export interface SealingConfig {
  readonly keyring?: Keyring | undefined;
  readonly compression?: Compression | undefined;
}

/**
 * Seals and opens the values of one cache route. `maxPlainBytes` bounds what a value may inflate to on read.
 * Stateless apart from its counters; safe to share by every store of the route.
 */
export class ValueSealer {
  readonly counters = new SealingCounters();

  constructor(
    readonly config: SealingConfig,
    private readonly maxPlainBytes: number,
  ) {}

  /** Whether values are encrypted (and values stored in clear are refused on read). */
  get encrypts(): boolean {
    return this.config.keyring !== undefined;
  }

  stats(): SealingStats {
    return this.counters.snapshot(this.encrypts);
  }

  /** The sealed bytes of `plain`, bound to `aad`. */
  seal(plain: Buffer, aad: Buffer): Buffer {
    let flags = 0;
    let payload = plain;
    const compression = this.config.compression;
    if (compression !== undefined && plain.length >= compression.thresholdBytes) {
      const packed = compress(compression.algorithm, plain);
      if (packed.length < plain.length) {
        flags |= compression.algorithm === "gzip" ? GZIP : BROTLI;
        this.counters.compressed++;
        this.counters.bytesSaved += plain.length - packed.length;
        payload = packed;
      }
    }
    const keyring = this.config.keyring;
    if (keyring === undefined) {
      const out = Buffer.allocUnsafe(2 + payload.length);
      out[0] = FORMAT;
      out[1] = flags;
      payload.copy(out, 2);
      return out;
    }
    const key = keyring.active;
    const headerLength = 3 + key.idBytes.length;
    const out = Buffer.allocUnsafe(headerLength + NONCE_BYTES + payload.length + TAG_BYTES);
    out[0] = FORMAT;
    out[1] = flags | ENCRYPTED;
    out[2] = key.idBytes.length;
    key.idBytes.copy(out, 3);
    encryptInto(key.key, payload, withHeader(aad, out, headerLength), out, headerLength);
    this.counters.sealed++;
    return out;
  }

  /** The plain bytes, or why not (counted): never throws, so a bad value is a miss. */
  open(sealed: Buffer, aad: Buffer): Buffer | OpenFailure {
    const failure = this.#open(sealed, aad);
    if (typeof failure !== "string") return failure;
    if (failure === "auth") this.counters.authFailed++;
    else if (failure === "unknown-key") this.counters.unknownKey++;
    else this.counters.corrupt++;
    return failure;
  }

  #open(sealed: Buffer, aad: Buffer): Buffer | OpenFailure {
    if (sealed.length < 2 || sealed[0] !== FORMAT) return "corrupt";
    const flags = sealed[1] as number;
    if ((flags & ~(GZIP | BROTLI | ENCRYPTED)) !== 0 || (flags & (GZIP | BROTLI)) === (GZIP | BROTLI)) return "corrupt";
    let payload: Buffer;
    const keyring = this.config.keyring;
    if ((flags & ENCRYPTED) === 0) {
      // Stored in clear where this route encrypts: planted, or written before encryption was turned on.
      if (keyring !== undefined) return "auth";
      payload = sealed.subarray(2);
    } else {
      if (keyring === undefined || sealed.length < 3) return keyring === undefined ? "unknown-key" : "corrupt";
      const headerLength = 3 + (sealed[2] as number);
      if (sealed.length < headerLength) return "corrupt";
      const key = keyring.key(sealed.toString("latin1", 3, headerLength));
      if (key === undefined) return "unknown-key";
      const plain = decrypt(key.key, sealed, headerLength, withHeader(aad, sealed, headerLength));
      if (plain === undefined) return "auth";
      this.counters.opened++;
      payload = plain;
    }
    if ((flags & (GZIP | BROTLI)) === 0) return payload;
    return decompress((flags & GZIP) !== 0 ? "gzip" : "brotli", payload, this.maxPlainBytes) ?? "corrupt";
  }
}

/** The associated data: the caller's, then the value's own header (format, flags, key id). */
function withHeader(aad: Buffer, value: Buffer, headerLength: number): Buffer {
  const out = Buffer.allocUnsafe(aad.length + headerLength);
  aad.copy(out, 0);
  value.copy(out, aad.length, 0, headerLength);
  return out;
}
