import type { Keyring } from "./keyring.js";
import { ValueSealer } from "./value-sealer.js";

/**
 * A sealed field's value in a jsonb column: the string `"~s1:"` then the sealed bytes (ValueSealer format) in base64.
 * The plaintext is the field's JSON; the associated data binds it to table, id and field, so a sealed value copied to
 * another row or field does not open.
 */
const SEALED_FIELD = "~s1:";

/** Seals and opens the declared fields of one table's rows. */
export class FieldSealer {
  readonly #sealer: ValueSealer;

  constructor(
    keyring: Keyring,
    private readonly table: string,
    readonly fields: ReadonlyArray<string>,
  ) {
    // No compression: field values are small, and their length would leak through it anyway.
    this.#sealer = new ValueSealer({ keyring }, Number.MAX_SAFE_INTEGER);
  }

  /** A copy of `data` with each declared field present sealed. */
  seal(id: string, data: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...data };
    for (const field of this.fields) {
      const value = data[field];
      if (value === undefined) continue;
      const plain = Buffer.from(JSON.stringify(value), "utf8");
      out[field] = SEALED_FIELD + this.#sealer.seal(plain, this.#aad(id, field)).toString("base64");
    }
    return out;
  }

  /**
   * A copy of `data` with each sealed field opened. A field that does not open (moved from another row, altered,
   * sealed with a key no longer held) throws: it is the source of truth, not a cache entry to miss.
   */
  open(id: string, data: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...data };
    for (const field of this.fields) {
      const value = data[field];
      if (typeof value !== "string" || !value.startsWith(SEALED_FIELD)) continue; // absent, or written in clear
      const plain = this.#sealer.open(Buffer.from(value.slice(SEALED_FIELD.length), "base64"), this.#aad(id, field));
      if (typeof plain === "string") {
        throw new Error(`${this.table} ${id}: sealed field ${field} does not open (${plain})`);
      }
      out[field] = JSON.parse(plain.toString("utf8"));
    }
    return out;
  }

  #aad(id: string, field: string): Buffer {
    return Buffer.from(`f|${this.table}|${id}|${field}`, "utf8");
  }
}
