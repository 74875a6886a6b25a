import type { DocumentEntry } from "./document-entry.js";
import { TOMBSTONE_REV } from "./document-entry.js";

/**
 * The bytes of a document entry in L2:
 *
 *   s1|<fingerprint>|<incarnation>|<rev or T>|<fetchedAt>|<delta>|<freshUntil>|<body>
 *
 * A fixed text header in front of the body lets a Lua fence read the version with one `string.find`, without
 * decoding JSON (invariant 1). `s1` is the envelope version: another tag is an old or future format, i.e. a miss.
 * The fingerprint repeats the one in the key, so a body written under another schema is recognised as foreign.
 *
 * What is "ours" is defined exactly once, here, and the Lua fence (fence-script.ts) applies the same rules: every
 * number is 1–16 ASCII digits and a safe integer, a rev is ≥ 1 or `T`, an entry has a non-empty body and a
 * tombstone an empty one. Anything else is corrupt — a miss to readers and *absent* to the fence, which replaces it:
 * a garbled header can never fence out a real version.
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
  const entry = parseEnvelope(fingerprint, raw, true);
  if (entry === undefined) return "corrupt";
  return entry.rev === TOMBSTONE_REV ? "tombstone" : entry;
}

/**
 * decodeEntry on the bytes Redis sent (`Buffer` replies), for the batch read: what decodeEntry answers for
 * `raw.toString()`, with only the body turned into a string. That saves converting the header, and JSON.parse then
 * reads a string of its own rather than a slice of the envelope, which V8 parses ~15% slower (measured on 100-doc
 * batches). The header is ASCII, and no byte of a multi-byte UTF-8 character is `|`, so byte offsets find the same
 * separators; `fingerprint` is the fingerprint's UTF-8 bytes. The property test holds the two decoders equal.
 */
export function decodeEntryBytes(fingerprint: Uint8Array, raw: Buffer): DecodedEnvelope {
  const end = raw.length;
  let i = 0;
  for (; i < TAG_BYTES.length; i++) if (raw[i] !== TAG_BYTES[i]) return "corrupt";
  // The fingerprint, up to the first `|` after the tag (a `|` inside it never matches, as with indexOf).
  for (let k = 0; k < fingerprint.length; k++, i++) {
    const c = fingerprint[k];
    if (c === BAR || raw[i] !== c) return "corrupt";
  }
  if (raw[i] !== BAR) return "corrupt";
  // Five fields, each 1–16 digits and a `|` (a rev may be `T` instead): one pass, no indexOf, no substring.
  const incarnation = uintAt(raw, ++i);
  if (incarnation < 0) return "corrupt";
  i = next;
  let rev: number;
  const tombstone = raw[i] === 84 /* T */ && raw[i + 1] === BAR;
  if (tombstone) {
    rev = TOMBSTONE_REV;
    next = i + 2;
  } else {
    rev = uintAt(raw, i);
    if (rev < 1) return "corrupt";
  }
  const fetchedAt = uintAt(raw, next);
  if (fetchedAt < 0) return "corrupt";
  const delta = uintAt(raw, next);
  if (delta < 0) return "corrupt";
  const freshUntil = uintAt(raw, next);
  if (freshUntil < 0) return "corrupt";
  // An entry has a body; a tombstone has none.
  if (tombstone !== (next === end)) return "corrupt";
  if (tombstone) return "tombstone";
  return { incarnation, rev, fetchedAt, delta, freshUntil, body: raw.toString("utf8", next, end) };
}

const BAR = 124; /* | */
const TAG_BYTES = Buffer.from(`${ENVELOPE_TAG}|`);
/** Where the field after the last uintAt starts (module state: a second return value without an allocation). */
let next = 0;

/**
 * The 1–16 digits from `start` up to a `|`, as a safe integer, setting `next` past the `|`; -1 when there are none,
 * more, another byte before the `|`, or no `|` (as toUint between two indexOf separators).
 */
function uintAt(raw: Buffer, start: number): number {
  let value = 0;
  let i = start;
  for (; i < raw.length; i++) {
    const c = raw[i]! - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  if (i === start || i - start > 16 || raw[i] !== BAR || value > Number.MAX_SAFE_INTEGER) return -1;
  next = i + 1;
  return value;
}

/** The version in an envelope, for fences that must not decode the body. `undefined` when not ours. */
export function envelopeVersion(
  fingerprint: string,
  raw: string,
): { incarnation: number; rev: number; freshUntil: number } | undefined {
  return parseEnvelope(fingerprint, raw, false);
}

/** A version floor's value: `<incarnation>|<rev or T>`. */
export function encodeFloor(incarnation: number, rev: number): string {
  return `${incarnation}|${rev === TOMBSTONE_REV ? "T" : rev}`;
}

/** Parses a version floor; `undefined` when it is not exactly our format (the fence then ignores and drops it). */
export function decodeFloor(raw: string): { incarnation: number; rev: number } | undefined {
  const bar = raw.indexOf("|");
  if (bar < 0) return undefined;
  const incarnation = toUint(raw, 0, bar);
  const rev =
    raw.length === bar + 2 && raw.charCodeAt(bar + 1) === 84 /* T */ ? TOMBSTONE_REV : toUint(raw, bar + 1, raw.length);
  return incarnation < 0 || rev < 1 ? undefined : { incarnation, rev };
}

/**
 * The entry in `raw` (a tombstone has rev TOMBSTONE_REV), or undefined when it is not ours. One object per call,
 * the entry itself: this runs on every L2 hit. `withBody` false leaves the body empty (fences need the header only).
 */
function parseEnvelope(fingerprint: string, raw: string, withBody: boolean): DocumentEntry | undefined {
  // Seven separators precede the body; find them by index (no split: the body may contain '|').
  const c0 = raw.indexOf("|");
  if (c0 !== ENVELOPE_TAG.length || !raw.startsWith(ENVELOPE_TAG)) return undefined;
  const c1 = raw.indexOf("|", c0 + 1);
  if (c1 < 0 || c1 - c0 - 1 !== fingerprint.length || !raw.startsWith(fingerprint, c0 + 1)) return undefined;
  const c2 = raw.indexOf("|", c1 + 1);
  const c3 = c2 < 0 ? -1 : raw.indexOf("|", c2 + 1);
  const c4 = c3 < 0 ? -1 : raw.indexOf("|", c3 + 1);
  const c5 = c4 < 0 ? -1 : raw.indexOf("|", c4 + 1);
  const c6 = c5 < 0 ? -1 : raw.indexOf("|", c5 + 1);
  if (c6 < 0) return undefined;
  const tombstone = c3 - c2 === 2 && raw.charCodeAt(c2 + 1) === 84; /* T */
  const incarnation = toUint(raw, c1 + 1, c2);
  const rev = tombstone ? TOMBSTONE_REV : toUint(raw, c2 + 1, c3);
  const fetchedAt = toUint(raw, c3 + 1, c4);
  const delta = toUint(raw, c4 + 1, c5);
  const freshUntil = toUint(raw, c5 + 1, c6);
  if (incarnation < 0 || rev < 1 || fetchedAt < 0 || delta < 0 || freshUntil < 0) return undefined;
  // An entry has a body; a tombstone has none.
  if (tombstone !== (c6 + 1 === raw.length)) return undefined;
  return { incarnation, rev, fetchedAt, delta, freshUntil, body: withBody ? raw.slice(c6 + 1) : "" };
}

/** Parses 1–16 decimal digits in raw[start, end) as a safe integer; -1 when empty, not digits, or too large. */
function toUint(raw: string, start: number, end: number): number {
  if (end <= start || end - start > 16) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = raw.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value <= Number.MAX_SAFE_INTEGER ? value : -1;
}
