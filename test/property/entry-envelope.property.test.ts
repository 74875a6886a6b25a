/**
 * The batch read decodes entries from the bytes Redis sent (decodeEntryBytes), the single read from a string
 * (decodeEntry): for any bytes, the two must agree — same entry, same body, same verdict (`corrupt`, `tombstone`) —
 * with the string being what ioredis makes of the bytes (UTF-8, invalid sequences replaced).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEntry,
  decodeEntryBytes,
  ENVELOPE_TAG,
  encodeEntry,
  encodeTombstone,
} from "../../src/l2/entry-envelope.js";

const FINGERPRINTS = ["4a8b02974eb6", "fp@tenant-1", "", "é|x"];

/** A header number: mostly valid, sometimes empty, signed, too long, unsafe or not digits. */
const number = fc.oneof(
  { weight: 20, arbitrary: fc.nat().map(String) },
  fc.constantFrom("", "0", "-1", "1.5", "T", " 1", "9007199254740991", "9007199254740992", "12345678901234567"),
  fc.constantFrom("0000000000000001", "00000000000000001", "0x1", "１"), // 16 and 17 digits (safe), a non-ASCII digit
  fc.string({ maxLength: 4 }),
);
const body = fc.oneof(
  fc.constant(""),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }), // lone surrogates: replaced on the way to bytes
  fc.json({ maxDepth: 2 }).map((json) => `${json}|${json}`),
);
/**
 * Envelopes for `fingerprint` field by field, each field drawn near the valid one (about one in ten decodes), then
 * as bytes, maybe cut or with a byte changed.
 */
const envelope = (fingerprint: string) =>
  fc
    .record({
      tag: fc.oneof({ weight: 8, arbitrary: fc.constant(ENVELOPE_TAG) }, fc.constantFrom("s2", "s", "s1x", "")),
      fingerprint: fc.oneof(
        { weight: 8, arbitrary: fc.constant(fingerprint) },
        fc.constantFrom(...FINGERPRINTS, "other"),
      ),
      incarnation: number,
      rev: fc.oneof(number, fc.constant("T")),
      fetchedAt: number,
      delta: number,
      freshUntil: number,
      body,
      bars: fc.constantFrom(7, 7, 7, 7, 7, 6, 8),
    })
    .map((e) => {
      const fields = [e.tag, e.fingerprint, e.incarnation, e.rev, e.fetchedAt, e.delta, e.freshUntil];
      return `${fields.slice(0, e.bars).join("|")}|${e.body}`;
    });
const bytes = (fingerprint: string) =>
  fc.oneof(
    { weight: 4, arbitrary: envelope(fingerprint).map((text) => Buffer.from(text)) },
    fc
      .tuple(envelope(fingerprint), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean())
      .map(([text, at, byte, cut]) => {
        const raw = Buffer.from(text);
        if (raw.length === 0) return raw;
        if (cut) return raw.subarray(0, at % raw.length);
        raw[at % raw.length] = byte; // may make the UTF-8 invalid
        return raw;
      }),
    fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)),
  );

describe("entry envelope: bytes and string decoders", () => {
  it("agree on every input, as ioredis would turn the bytes into a string", () => {
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...FINGERPRINTS).chain((fingerprint) => fc.tuple(fc.constant(fingerprint), bytes(fingerprint))),
        ([fingerprint, raw]) => {
          const expected = decodeEntry(fingerprint, raw.toString());
          expect(decodeEntryBytes(Buffer.from(fingerprint), raw)).toEqual(expected);
          decoded += typeof expected === "string" ? 0 : 1;
        },
      ),
      { numRuns: 20_000 },
    );
    expect(decoded).toBeGreaterThan(1_000); // the generator reaches valid entries, not only garbage
  });

  it("decode what encodeEntry and encodeTombstone write", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FINGERPRINTS.filter((fp) => !fp.includes("|"))),
        fc.record({
          incarnation: fc.nat(),
          rev: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          fetchedAt: fc.nat(),
          delta: fc.nat(),
          freshUntil: fc.nat(),
          body: fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
        }),
        (fingerprint, entry) => {
          const fp = Buffer.from(fingerprint);
          expect(decodeEntryBytes(fp, Buffer.from(encodeEntry(fingerprint, entry)))).toEqual(entry);
          const tombstone = Buffer.from(encodeTombstone(fingerprint, entry.incarnation, entry.fetchedAt));
          expect(decodeEntryBytes(fp, tombstone)).toBe("tombstone");
        },
      ),
    );
  });
});
