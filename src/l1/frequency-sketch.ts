/**
 * TinyLFU's popularity estimate: a count-min sketch of 4-bit counters with a doorkeeper in front.
 *
 * - Counters are packed eight to a 32-bit word. The four counters of one key live in one 64-byte block
 *   (16 words; each hash function owns 4 of them), so an increment or an estimate touches one cache line.
 * - The doorkeeper is a Bloom filter (2 bits per key): a key's first sighting in a sample period only sets
 *   its bits, so one-hit wonders never reach the counters. An estimate is the smallest counter, plus one
 *   when the doorkeeper has seen the key.
 * - Every `sampleSize` (10 × capacity) increments, all counters are halved and the doorkeeper is cleared,
 *   so old popularity decays ("reset" in the TinyLFU paper). That pause is a linear walk bounded by the
 *   table size, which grows with capacity only up to MAX_TABLE_WORDS (4 MiB, about a millisecond to halve;
 *   reached at 512k entries); larger caches share counters, trading a little accuracy for a bounded pause.
 * - Keys are hashed with a per-instance random seed, so an attacker cannot precompute colliding keys
 *   offline. (The store's random admission of warm candidates is the defence that does not rely on this.)
 *
 * Callers hash a key once with `hash()` and pass the 32-bit result to `increment` and `frequency`, so
 * resident entries (which keep their hash) are never rehashed.
 */
export class FrequencySketch {
  /** Increments between two halvings. */
  readonly sampleSize: number;
  readonly #table: Uint32Array;
  readonly #blockMask: number;
  readonly #doorkeeper: Uint32Array;
  readonly #doorkeeperShift: number;
  readonly #seed: number;
  #additions = 0;
  #resets = 0;

  /** `seed` is for tests that need reproducible hashes; by default every sketch draws its own. */
  constructor(capacity: number, seed: number = randomSeed()) {
    const size = Math.max(1, Math.floor(capacity));
    this.sampleSize = 10 * size;
    // 16 counters (8 bytes) per entry, like Caffeine; at least one block.
    const words = clamp(ceilingPowerOfTwo(size) * 2, BLOCK_WORDS, MAX_TABLE_WORDS);
    this.#table = new Uint32Array(words);
    this.#blockMask = words / BLOCK_WORDS - 1;
    // 128 doorkeeper bits (16 bytes) per entry. A false positive lets a newcomer look one access more
    // popular than it is, which is enough to win admission against an equally popular victim: at 32 bits
    // per entry that churn cost ~1.5 points on the looping trace (see bench/l1-policies.ts).
    const bits = clamp(ceilingPowerOfTwo(size * 128), 1024, MAX_DOORKEEPER_BITS);
    this.#doorkeeper = new Uint32Array(bits >>> 5);
    this.#doorkeeperShift = 32 - Math.log2(bits);
    this.#seed = seed | 0;
  }

  /** How many times the sketch has been halved. */
  get resets(): number {
    return this.#resets;
  }

  /**
   * Seeded 32-bit hash of a string (Murmur3's mixing), no allocation: two UTF-16 units per round, or for a key of
   * BYTES_FROM to BYTES_UP_TO units (a document id, a prefixed key) four UTF-8 bytes per round. The bytes are one
   * `encodeInto` and a typed-array loop: 122–130 ns for a 36-unit key in any process, against 137 ns by units in a
   * clean process and 571 ns once anything subclasses String (node-redis 5 does: V8 then stops inlining `charCodeAt`;
   * see document-id.ts); 80 units: 184–202 ns against 278 and 1392. A short key is as cheap by units (32 ns for 9,
   * 80 for 20) as `encodeInto` alone costs, so it stays there (2026-12-01, one-process A/B of two builds).
   */
  hash(key: string): number {
    const length = key.length;
    if (length >= BYTES_FROM && length <= BYTES_UP_TO) return this.#hashBytes(key);
    let h = this.#seed;
    const even = length & ~1;
    let i = 0;
    for (; i < even; i += 2) h = fullRound(h, key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16));
    if (i < length) h = mixRound(h, key.charCodeAt(i));
    return finalMix(h, length);
  }

  /** `hash` of a key BYTES_FROM to BYTES_UP_TO units long, from its UTF-8 bytes. */
  #hashBytes(key: string): number {
    const n = utf8.encodeInto(key, scratchBytes).written; // all of it: the scratch holds 3 bytes a unit
    let h = this.#seed;
    const whole = n >>> 2;
    for (let i = 0; i < whole; i++) h = fullRound(h, scratchWords[i]!);
    if ((n & 3) !== 0) {
      let tail = 0;
      for (let i = n & ~3; i < n; i++) tail = (tail << 8) | scratchBytes[i]!;
      h = mixRound(h, tail);
    }
    return finalMix(h, n);
  }

  /**
   * Records one access of the key with hash `h`. Returns true when all four of its counters are now saturated (15):
   * until the next halving (`resets` changes), further accesses of this key change nothing but the sample clock.
   * It ticks the clock: not for a sketch a HitBuffer drives (see tick).
   */
  increment(h: number): boolean {
    const saturated = this.add(h, 1);
    if (this.tick()) {
      this.reset();
      return false;
    }
    return saturated;
  }

  /**
   * Records `n` (≥ 1) accesses of the key with hash `h` in the counters, without moving the sample clock: for a caller
   * that batches accesses (HitBuffer) and has counted each one with `tick()`. The same as `n` increments in a row (a
   * key's first sighting in a sample period only sets the doorkeeper; counters stop at 15), so a batch applied in the
   * order of each key's first access leaves the sketch as it would have been. Returns true as `increment` does.
   */
  add(h: number, n: number): boolean {
    if (!this.#admitToDoorkeeper(h) && --n === 0) return false;
    const block = (h & this.#blockMask) << 4;
    const spread = rehash(h);
    const table = this.#table;
    // One counter in each quarter of the block (so four distinct words), unrolled: this runs on every counted hit.
    const w0 = block + (spread & 3);
    const w1 = block + 4 + ((spread >>> 8) & 3);
    const w2 = block + 8 + ((spread >>> 16) & 3);
    const w3 = block + 12 + ((spread >>> 24) & 3);
    const s0 = ((spread >>> 2) & 7) << 2;
    const s1 = ((spread >>> 10) & 7) << 2;
    const s2 = ((spread >>> 18) & 7) << 2;
    const s3 = ((spread >>> 26) & 7) << 2;
    const v0 = table[w0]!;
    const v1 = table[w1]!;
    const v2 = table[w2]!;
    const v3 = table[w3]!;
    const c0 = Math.min(15, ((v0 >>> s0) & 15) + n);
    const c1 = Math.min(15, ((v1 >>> s1) & 15) + n);
    const c2 = Math.min(15, ((v2 >>> s2) & 15) + n);
    const c3 = Math.min(15, ((v3 >>> s3) & 15) + n);
    table[w0] = (v0 & ~(15 << s0)) | (c0 << s0);
    table[w1] = (v1 & ~(15 << s1)) | (c1 << s1);
    table[w2] = (v2 & ~(15 << s2)) | (c2 << s2);
    table[w3] = (v3 & ~(15 << s3)) | (c3 << s3);
    return c0 === 15 && c1 === 15 && c2 === 15 && c3 === 15;
  }

  /**
   * Counts one access on the sample clock; true when the period is over: the caller then calls `reset()`. Not for a
   * sketch a HitBuffer drives: the buffer keeps the count itself (ticksLeft), and a tick here would put it out of step.
   */
  tick(): boolean {
    return ++this.#additions >= this.sampleSize;
  }

  /**
   * Accesses left in this sample period, for a caller that counts them itself rather than calling tick() for each
   * (HitBuffer: one field of its own on the hit path); after that many it calls endPeriod().
   */
  get ticksLeft(): number {
    return this.sampleSize - this.#additions;
  }

  /** The period counted by the caller (see ticksLeft) is over: as `ticksLeft` tick()s and then reset() would leave it. */
  endPeriod(): void {
    this.#additions = this.sampleSize;
    this.reset();
  }

  /** Estimated accesses of the key with hash `h` in the recent past: 0 … 16. */
  frequency(h: number): number {
    const block = (h & this.#blockMask) << 4;
    const spread = rehash(h);
    const table = this.#table;
    let min = 15;
    for (let i = 0; i < 4; i++) {
      const bits = spread >>> (i << 3);
      const count = (table[block + (i << 2) + (bits & 3)]! >>> (((bits >>> 2) & 7) << 2)) & 15;
      if (count < min) min = count;
    }
    return this.#doorkeeperContains(h) ? min + 1 : min;
  }

  /** Sets the key's doorkeeper bits; returns whether they were all set already (a repeat sighting). */
  #admitToDoorkeeper(h: number): boolean {
    const shift = this.#doorkeeperShift;
    const a = Math.imul(h, 0x9e3779b1) >>> shift;
    const b = Math.imul(h, 0x85ebca77) >>> shift;
    const door = this.#doorkeeper;
    const wordA = door[a >>> 5]!;
    const maskA = 1 << (a & 31);
    const wordB = door[b >>> 5]!;
    const maskB = 1 << (b & 31);
    if ((wordA & maskA) !== 0 && (wordB & maskB) !== 0) return true;
    door[a >>> 5] = wordA | maskA;
    door[b >>> 5] = door[b >>> 5]! | maskB;
    return false;
  }

  #doorkeeperContains(h: number): boolean {
    const shift = this.#doorkeeperShift;
    const a = Math.imul(h, 0x9e3779b1) >>> shift;
    const b = Math.imul(h, 0x85ebca77) >>> shift;
    const door = this.#doorkeeper;
    return (door[a >>> 5]! & (1 << (a & 31))) !== 0 && (door[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  /** Halves every counter (all eight nibbles of a word at once) and forgets the doorkeeper: the end of a sample period. */
  reset(): void {
    const table = this.#table;
    for (let i = 0; i < table.length; i++) table[i] = (table[i]! >>> 1) & 0x77777777;
    this.#doorkeeper.fill(0);
    this.#additions >>>= 1;
    this.#resets++;
  }
}

/** Keys of this many UTF-16 units or more are hashed from their UTF-8 bytes (see FrequencySketch.hash)... */
const BYTES_FROM = 24;
/** ...up to this many, so that the scratch below always holds the whole key (3 bytes a unit at most). */
const BYTES_UP_TO = 512;
/** A key's UTF-8 bytes while it is hashed (hashing is synchronous: one scratch serves every sketch), and as words. */
const scratchBytes = new Uint8Array(BYTES_UP_TO * 3);
const scratchWords = new Uint32Array(scratchBytes.buffer);
const utf8 = new TextEncoder();

/** 16 words = 64 bytes: one cache line holds all four counters of a key. */
const BLOCK_WORDS = 16;
/** 4 MiB of counters: the most a halving ever walks. */
const MAX_TABLE_WORDS = 1 << 20;
/** 4 MiB of doorkeeper bits: clearing it is a memset. */
const MAX_DOORKEEPER_BITS = 1 << 25;

function mixRound(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return h ^ Math.imul(k, 0x1b873593);
}

/** One whole 32-bit block: mixed in, then the state stirred (the last, partial block is only mixed in). */
function fullRound(h: number, k: number): number {
  h = mixRound(h, k);
  return Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
}

/** The length folded in, then fmix32: every input bit affects every output bit, so any slice of it is an index. */
function finalMix(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Chooses the counters inside the block. The block comes from the low bits of `h`; rotating first makes
 * the counter choice depend on the high bits, so keys sharing a block rarely share counters.
 */
function rehash(h: number): number {
  h = Math.imul((h >>> 16) | (h << 16), 0x31848bab);
  return h ^ (h >>> 14);
}

function ceilingPowerOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(Math.max(n, min), max);
}

function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) | 0;
}
