import type { KeyObject } from "node:crypto";
import { createSecretKey } from "node:crypto";
import { describeValue } from "../kernel/config-object.js";
import { ConfigurationError } from "../kernel/errors.js";

/** What `keyring()` accepts. */
export interface KeyringOptions {
  /**
   * Key id → 32 random bytes (AES-256). Every key is accepted for reading; only `active` writes. Ids are 1–32 of
   * `A-Z a-z 0-9 . _ -`. A key is raw bytes, never a password: derive one with a KDF (scrypt, HKDF) yourself if you must.
   */
  readonly keys: Readonly<Record<string, Uint8Array>>;
  /** The id of the key new values are sealed with; one of `keys`. */
  readonly active: string;
}

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;

/** One key of a keyring: its id (written in front of every value it seals) and the key itself. */
export interface KeyringKey {
  /** The key id as given. */
  readonly id: string;
  /** The id's bytes, as written into a sealed value's header. */
  readonly idBytes: Buffer;
  /** The key material, held by node:crypto (copied at construction: later changes to your buffer do nothing). */
  readonly key: KeyObject;
}

/**
 * Keys for sealing cache values and sealed fields: one active key seals, every key opens, so keys rotate without a
 * flush (add the new key, make it active, remove the old one once its entries have expired). Immutable; build it
 * with `keyring()`.
 */
export class Keyring {
  /** The key new values are sealed with. */
  readonly active: KeyringKey;
  readonly #byId: ReadonlyMap<string, KeyringKey>;

  /** @internal Use `keyring()`, which checks its options. */
  constructor(keys: ReadonlyMap<string, KeyringKey>, active: string) {
    this.#byId = keys;
    this.active = keys.get(active) as KeyringKey;
  }

  /** The key with this id, or undefined (a value sealed with a key we do not hold is a miss, not an error). */
  key(id: string): KeyringKey | undefined {
    return this.#byId.get(id);
  }

  /** The ids held, active first. */
  get ids(): ReadonlyArray<string> {
    return [this.active.id, ...[...this.#byId.keys()].filter((id) => id !== this.active.id)];
  }
}

/**
 * Builds a keyring, checked at once (ConfigurationError naming the key): at least one key, every key exactly 32 bytes
 * (a string is refused — no key is ever derived from a password here), `active` one of them.
 *
 * @example
 * ```ts
 * import { randomBytes } from "node:crypto";
 * import { keyring } from "stratacache";
 *
 * const keys = keyring({ active: "2026-11", keys: { "2026-10": oldKey, "2026-11": randomBytes(32) } });
 * ```
 */
export function keyring(options: KeyringOptions, path = "encryption"): Keyring {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(path, `must be { keys, active } (got ${describeValue(options)})`);
  }
  for (const key of Object.keys(options)) {
    if (key !== "keys" && key !== "active") throw new ConfigurationError(`${path}.${key}`, "is not a keyring option");
  }
  const given = options.keys as unknown;
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new ConfigurationError(`${path}.keys`, "must be an object of key id → 32-byte Uint8Array");
  }
  const keys = new Map<string, KeyringKey>();
  for (const [id, bytes] of Object.entries(given as Record<string, unknown>)) {
    if (!KEY_ID.test(id))
      throw new ConfigurationError(`${path}.keys.${id}`, "is not a key id (1-32 of A-Z a-z 0-9 . _ -)");
    if (!(bytes instanceof Uint8Array)) {
      throw new ConfigurationError(
        `${path}.keys.${id}`,
        `must be ${KEY_BYTES} random bytes (a Uint8Array; got ${describeValue(bytes)}); passwords are refused: derive a key with a KDF`,
      );
    }
    if (bytes.byteLength !== KEY_BYTES) {
      throw new ConfigurationError(
        `${path}.keys.${id}`,
        `must be exactly ${KEY_BYTES} bytes (got ${bytes.byteLength})`,
      );
    }
    keys.set(id, { id, idBytes: Buffer.from(id, "latin1"), key: createSecretKey(Buffer.from(bytes)) });
  }
  if (keys.size === 0) throw new ConfigurationError(`${path}.keys`, "must hold at least one key");
  if (typeof options.active !== "string" || !keys.has(options.active)) {
    throw new ConfigurationError(`${path}.active`, `must name one of the keys (${[...keys.keys()].join(", ")})`);
  }
  return new Keyring(keys, options.active);
}
