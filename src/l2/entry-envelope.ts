import type { DocumentEntry } from "./document-entry.js";
import { TOMBSTONE_REV } from "./document-entry.js";

/**
 * The bytes of a document entry in L2:
 *
 *   s1|<fingerprint>|<incarnation>|<rev or T>|<fetchedAt>|<delta>|<freshUntil>|<body>
 *
 * A fixed text header in front of the body lets a Lua fence read the version with one `string.match`, without
 * decoding JSON (invariant 1). `s1` is the envelope version: another tag is an old or future format, i.e. a miss.
 * The fingerprint repeats the one in the key, so a body written under another schema is recognised as foreign.
 */
export const ENVELOPE_TAG = "s1";

/** Times are written as whole milliseconds (an injected clock may return fractions; the header holds digits only). */
export function encodeEntry(fingerprint: string, entry: DocumentEntry): string {
  return `${ENVELOPE_TAG}|${fingerprint}|${entry.incarnation}|${entry.rev}|${Math.floor(entry.fetchedAt)}|${Math.ceil(entry.delta)}|${Math.floor(entry.freshUntil)}|${entry.body}`;
}

export function encodeTombstone(fingerprint: string, incarnation: number, now: number): string {
  return `${ENVELOPE_TAG}|${fingerprint}|${incarnation}|T|${Math.floor(now)}|0|0|`;
}

/** Header fields of a decoded entry, or why it is not one. */
export type DecodedEnvelope = DocumentEntry | "tombstone" | "corrupt";

/** Decodes an envelope; everything that is not exactly our format for this fingerprint is `"corrupt"`. */
export function decodeEntry(fingerprint: string, raw: string): DecodedEnvelope {
  // Seven separators precede the body; find them by index (no split: the body may contain '|').
  const c0 = raw.indexOf("|");
  if (c0 !== ENVELOPE_TAG.length || !raw.startsWith(ENVELOPE_TAG)) return "corrupt";
  const c1 = raw.indexOf("|", c0 + 1);
  if (c1 < 0 || c1 - c0 - 1 !== fingerprint.length || !raw.startsWith(fingerprint, c0 + 1)) return "corrupt";
  const c2 = raw.indexOf("|", c1 + 1);
  const c3 = c2 < 0 ? -1 : raw.indexOf("|", c2 + 1);
  if (c3 < 0) return "corrupt";
  const incarnation = toUint(raw, c1 + 1, c2);
  if (incarnation < 0) return "corrupt";
  if (c3 - c2 === 2 && raw.charCodeAt(c2 + 1) === 84 /* T */) return "tombstone";
  const c4 = raw.indexOf("|", c3 + 1);
  const c5 = c4 < 0 ? -1 : raw.indexOf("|", c4 + 1);
  const c6 = c5 < 0 ? -1 : raw.indexOf("|", c5 + 1);
  if (c6 < 0 || c6 + 1 >= raw.length) return "corrupt";
  const rev = toUint(raw, c2 + 1, c3);
  const fetchedAt = toUint(raw, c3 + 1, c4);
  const delta = toUint(raw, c4 + 1, c5);
  const freshUntil = toUint(raw, c5 + 1, c6);
  if (rev < 1 || fetchedAt < 0 || delta < 0 || freshUntil < 0) return "corrupt";
  return { incarnation, rev, fetchedAt, delta, freshUntil, body: raw.slice(c6 + 1) };
}

/** The version in an envelope, for fences that must not decode the body. `undefined` when not ours. */
export function envelopeVersion(
  fingerprint: string,
  raw: string,
): { incarnation: number; rev: number; freshUntil: number } | undefined {
  const decoded = decodeEntry(fingerprint, raw);
  if (decoded === "corrupt") return undefined;
  if (decoded === "tombstone") {
    const start = ENVELOPE_TAG.length + fingerprint.length + 2;
    return { incarnation: toUint(raw, start, raw.indexOf("|", start)), rev: TOMBSTONE_REV, freshUntil: 0 };
  }
  return decoded;
}

/** Parses the decimal digits in raw[start, end) as a safe integer; -1 when empty, not digits, or too long. */
function toUint(raw: string, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = raw.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}
