/**
 * Redis Cluster hash slots (src/l2/redis/hash-slot.ts): CRC16/XMODEM of the key — or of its first non-empty
 * `{hash tag}` — mod 16384, and the grouping of multi-key calls into one round trip per slot.
 *
 * The expected slots below were read off a real `redis-server --cluster-enabled yes` (7.0) with
 * `redis-cli cluster keyslot <key>`; a bit-by-bit CRC16 written here (independent of the table-driven one in src)
 * cross-checks arbitrary keys.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupBySlot, hashSlot } from "../../src/l2/redis/hash-slot.js";

/** CRC16/XMODEM (poly 0x1021, init 0, no reflection), one bit at a time. */
function referenceCrc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
      crc &= 0xffff;
    }
  }
  return crc;
}

/** The cluster spec's keyHashSlot, written over bytes as in the Redis source (cluster.c). */
function referenceSlot(key: string): number {
  const bytes = new TextEncoder().encode(key);
  let s = 0;
  for (; s < bytes.length; s++) if (bytes[s] === 0x7b) break;
  if (s === bytes.length) return referenceCrc16(bytes) & 16383;
  let e = s + 1;
  for (; e < bytes.length; e++) if (bytes[e] === 0x7d) break;
  if (e === bytes.length || e === s + 1) return referenceCrc16(bytes) & 16383;
  return referenceCrc16(bytes.subarray(s + 1, e)) & 16383;
}

describe("hashSlot", () => {
  it("matches CLUSTER KEYSLOT for plain keys", () => {
    expect(hashSlot("foo")).toBe(12182);
    expect(hashSlot("bar")).toBe(5061);
    expect(hashSlot("hello")).toBe(866);
    expect(hashSlot("x")).toBe(16287);
    expect(hashSlot("")).toBe(0);
  });

  it("is CRC16/XMODEM mod 16384 (the standard check value of '123456789' is 0x31C3)", () => {
    expect(referenceCrc16(new TextEncoder().encode("123456789"))).toBe(0x31c3);
    expect(hashSlot("123456789")).toBe(0x31c3 & 0x3fff);
    expect(hashSlot("123456789")).toBe(12739);
  });

  it("hashes only the hash tag, so tagged keys share a slot", () => {
    expect(hashSlot("{user1000}.following")).toBe(3443);
    expect(hashSlot("{user1000}.followers")).toBe(3443);
    expect(hashSlot("ns:kv:{x}")).toBe(hashSlot("x"));
    expect(hashSlot("ns:kv:{x}")).toBe(16287);
  });

  it("follows the tag rules: first '{', first '}' after it, empty tag hashes the whole key", () => {
    // An empty first tag: the whole key is hashed, even though a later tag is not empty.
    expect(hashSlot("foo{}{bar}")).toBe(8363);
    expect(hashSlot("foo{}{bar}")).not.toBe(hashSlot("bar"));
    // The tag runs from the first '{' to the first '}' after it: "{bar".
    expect(hashSlot("foo{{bar}}zap")).toBe(4015);
    expect(hashSlot("foo{{bar}}zap")).toBe(hashSlot("{bar"));
    // Only the first tag counts.
    expect(hashSlot("foo{bar}{zap}")).toBe(5061);
    expect(hashSlot("foo{bar}{zap}")).toBe(hashSlot("bar"));
    // Unbalanced or out-of-order braces: the whole key.
    expect(hashSlot("{}")).toBe(15257);
    expect(hashSlot("{")).toBe(4092);
    expect(hashSlot("}")).toBe(12090);
    expect(hashSlot("a{b")).toBe(13340);
    expect(hashSlot("a}b{c}")).toBe(7365);
  });

  it("hashes the UTF-8 bytes of the key", () => {
    expect(hashSlot("é")).toBe(10180);
    expect(hashSlot("{é}x")).toBe(10180);
    expect(hashSlot("日本語")).toBe(12788);
  });

  it("agrees with a bit-by-bit reference on arbitrary keys, tagged or not", () => {
    const piece = fc.oneof(
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.constantFrom("{", "}", "{}", "{{", "}}", "{user1000}", "ns:kv:"),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        const key = pieces.join("");
        const slot = hashSlot(key);
        expect(slot).toBe(referenceSlot(key));
        expect(slot).toBeGreaterThanOrEqual(0);
        expect(slot).toBeLessThan(16384);
      }),
      { numRuns: 500 },
    );
  });
});

describe("groupBySlot", () => {
  it("puts every index in one group, in order, for a standalone server", () => {
    expect(groupBySlot(["{a}1", "{b}1", "{a}2", "x", "{b}2"], false)).toEqual([[0, 1, 2, 3, 4]]);
    expect(groupBySlot(["only"], false)).toEqual([[0]]);
  });

  it("groups indices by slot for a cluster, groups in first-seen order, indices ascending", () => {
    // {a} → 15495, {b} → 3300, x → 16287 (CLUSTER KEYSLOT): three distinct slots.
    expect(hashSlot("{a}1")).toBe(15495);
    expect(hashSlot("{b}1")).toBe(3300);
    const keys = ["{a}1", "{b}1", "{a}2", "x", "{b}2", "{x}", "{a}3"];
    // "{x}" hashes "x": it joins the group of "x".
    expect(groupBySlot(keys, true)).toEqual([
      [0, 2, 6],
      [1, 4],
      [3, 5],
    ]);
  });

  it("keeps duplicate keys as separate indices of the same group", () => {
    expect(groupBySlot(["foo", "bar", "foo", "foo{bar}"], true)).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it("has no group for no keys on a cluster", () => {
    expect(groupBySlot([], true)).toEqual([]);
    expect(groupBySlot([], false)).toEqual([]); // no empty MGET or DEL for Redis to refuse
  });

  it("partitions the indices: each exactly once, one slot per group, a distinct slot per group", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("{a}", "{b}k", "{a}z", "x")), {
          maxLength: 40,
        }),
        (keys) => {
          const groups = groupBySlot(keys, true);
          expect(groups.flat().sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
          const slots = groups.map((group) => {
            expect(group).toEqual([...group].sort((a, b) => a - b));
            const slot = hashSlot(keys[group[0]!]!);
            for (const i of group) expect(hashSlot(keys[i]!)).toBe(slot);
            return slot;
          });
          expect(new Set(slots).size).toBe(groups.length);
          // First-seen order: each group starts before every later group starts.
          const starts = groups.map((group) => group[0]!);
          expect(starts).toEqual([...starts].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });
});
