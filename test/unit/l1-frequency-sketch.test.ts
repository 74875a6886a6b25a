import { describe, expect, it } from "vitest";
import { FrequencySketch } from "../../src/l1/frequency-sketch.js";

function bump(sketch: FrequencySketch, key: string, times: number): void {
  const h = sketch.hash(key);
  for (let i = 0; i < times; i++) sketch.increment(h);
}

/** Distinct keys seen once each: they only set doorkeeper bits, so they advance the sample without touching counters. */
function fillSample(sketch: FrequencySketch, count: number, prefix = "filler"): void {
  for (let i = 0; i < count; i++) sketch.increment(sketch.hash(`${prefix}-${i}`));
}

describe("FrequencySketch", () => {
  it("estimates 0 for an unseen key and counts accesses one by one", () => {
    const sketch = new FrequencySketch(1024, 7);
    const h = sketch.hash("a");
    expect(sketch.frequency(h)).toBe(0);
    for (let i = 1; i <= 10; i++) {
      sketch.increment(h);
      expect(sketch.frequency(h)).toBe(i);
    }
  });

  it("keeps a first sighting in the doorkeeper only: it is forgotten entirely at the next reset", () => {
    const sketch = new FrequencySketch(64, 7);
    bump(sketch, "once", 1);
    bump(sketch, "thrice", 3);
    expect(sketch.frequency(sketch.hash("once"))).toBe(1);
    expect(sketch.frequency(sketch.hash("thrice"))).toBe(3);
    fillSample(sketch, sketch.sampleSize - 4);
    expect(sketch.resets).toBe(1);
    // Counters: once → 0, thrice → 2 (the first sighting went to the doorkeeper), halved to 1; doorkeeper cleared.
    expect(sketch.frequency(sketch.hash("once"))).toBe(0);
    expect(sketch.frequency(sketch.hash("thrice"))).toBe(1);
  });

  it("saturates counters at 15 (16 with the doorkeeper bit) and halves them on reset", () => {
    const sketch = new FrequencySketch(64, 11);
    bump(sketch, "hot", 100);
    expect(sketch.frequency(sketch.hash("hot"))).toBe(16);
    expect(sketch.resets).toBe(0);
    fillSample(sketch, sketch.sampleSize - 100);
    expect(sketch.resets).toBe(1);
    expect(sketch.frequency(sketch.hash("hot"))).toBe(7);
    // The sample counter halves too: the next reset comes after half a sample.
    fillSample(sketch, sketch.sampleSize / 2 - 1, "second");
    expect(sketch.resets).toBe(1);
    fillSample(sketch, 1, "third");
    expect(sketch.resets).toBe(2);
    expect(sketch.frequency(sketch.hash("hot"))).toBe(3);
  });

  it("resets exactly every sampleSize = 10 × capacity increments", () => {
    const sketch = new FrequencySketch(100, 3);
    expect(sketch.sampleSize).toBe(1000);
    const h = sketch.hash("k");
    for (let i = 0; i < 999; i++) sketch.increment(h);
    expect(sketch.resets).toBe(0);
    sketch.increment(h);
    expect(sketch.resets).toBe(1);
  });

  it("hashes deterministically per seed and differently across seeds", () => {
    const a = new FrequencySketch(16, 1);
    const b = new FrequencySketch(16, 1);
    const c = new FrequencySketch(16, 2);
    expect(a.hash("user:42")).toBe(b.hash("user:42"));
    expect(a.hash("user:42")).not.toBe(c.hash("user:42"));
    expect(a.hash("")).not.toBe(a.hash("\u0000"));
    expect(a.hash("ab")).not.toBe(a.hash("ba"));
  });

  it("hashes long keys (24–512 units: from their UTF-8 bytes) deterministically per seed, and every byte counts", () => {
    const a = new FrequencySketch(16, 1);
    const b = new FrequencySketch(16, 1);
    const c = new FrequencySketch(16, 2);
    const id = "0b7c3f0e-5d2a-4c1b-9e8f-1a2b3c4d5e6f";
    expect(a.hash(id)).toBe(b.hash(id));
    expect(a.hash(id)).not.toBe(c.hash(id));
    // Around the bounds of the byte path, and at each length a change in the last unit (the tail of the last word).
    for (const length of [23, 24, 25, 26, 27, 28, 511, 512, 513]) {
      const base = "k".repeat(length - 1);
      const hashes = new Set(
        ["a", "b", "c", "\u00e9", "\u0101", "\u4e2d", "\ud83d"].map((last) => a.hash(base + last)),
      );
      expect(hashes.size).toBe(7);
      expect(a.hash(`${base}a`)).toBe(b.hash(`${base}a`));
    }
    // A unit whose low byte is another unit's: the bytes differ (UTF-8), so the hashes do.
    expect(a.hash(`${id}\u0161`)).not.toBe(a.hash(`${id}a`));
    expect(a.hash(`\u0161${id}`)).not.toBe(a.hash(`a${id}`));
  });

  it("spreads long keys as it spreads short ones", () => {
    const sketch = new FrequencySketch(1000, 5);
    const hashes = new Set<number>();
    for (let i = 0; i < 50_000; i++) hashes.add(sketch.hash(`document-${String(i).padStart(20, "0")}`));
    expect(hashes.size).toBeGreaterThan(49_990);
  });

  it("draws a random seed per instance by default", () => {
    const hashes = new Set(Array.from({ length: 8 }, () => new FrequencySketch(16).hash("same key")));
    expect(hashes.size).toBeGreaterThan(1);
  });

  it("spreads hashes: few collisions over many similar keys, and unseen keys mostly estimate 0", () => {
    const sketch = new FrequencySketch(1000, 5);
    const hashes = new Set<number>();
    for (let i = 0; i < 50_000; i++) hashes.add(sketch.hash(`doc-${i}`));
    expect(hashes.size).toBeGreaterThan(49_990);
    for (let i = 0; i < 1000; i++) bump(sketch, `seen-${i}`, 3);
    let overestimated = 0;
    for (let i = 0; i < 1000; i++) if (sketch.frequency(sketch.hash(`unseen-${i}`)) > 0) overestimated++;
    expect(overestimated).toBeLessThan(50);
  });
});
