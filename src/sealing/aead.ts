import type { KeyObject } from "node:crypto";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** AES-256-GCM with a 96-bit random nonce and a 128-bit tag: `nonce | ciphertext | tag`. */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * Encrypts `plaintext` bound to `aad`, writing `nonce | ciphertext | tag` into `out` at `offset` (which must leave
 * room for plaintext.length + NONCE_BYTES + TAG_BYTES). A random nonce per value: with 2^32 values per key the
 * collision chance stays below 2^-32, so rotate keys long before that.
 */
export function encryptInto(key: KeyObject, plaintext: Buffer, aad: Buffer, out: Buffer, offset: number): void {
  const nonce = randomBytes(NONCE_BYTES);
  nonce.copy(out, offset);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  let at = offset + NONCE_BYTES;
  at += cipher.update(plaintext).copy(out, at);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
}

/**
 * Decrypts `sealed[offset..]` (`nonce | ciphertext | tag`) bound to `aad`; undefined when authentication fails
 * (another key, another place, a flipped bit, a truncation).
 */
export function decrypt(key: KeyObject, sealed: Buffer, offset: number, aad: Buffer): Buffer | undefined {
  if (sealed.length - offset < NONCE_BYTES + TAG_BYTES) return undefined;
  const nonce = sealed.subarray(offset, offset + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const head = decipher.update(sealed.subarray(offset + NONCE_BYTES, sealed.length - TAG_BYTES));
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return undefined;
  }
}
