import { describe, expect, it } from "vitest";
import { xfetchElected } from "../../src/read-through/xfetch.js";
import { seededRandom } from "../support/seeded-random.js";

describe("XFetch election", () => {
  const freshUntil = 1_000_000;

  it("never elects an entry far from expiry (over the whole random range)", () => {
    const random = seededRandom(1);
    for (let i = 0; i < 10_000; i++) {
      // 10 minutes left, a 10 ms fetch, beta 1: electing would need ln(random) < -60000.
      expect(xfetchElected(freshUntil - 600_000, 10, 1, random(), freshUntil)).toBe(false);
    }
  });

  it("always elects at the horizon", () => {
    const random = seededRandom(2);
    for (let i = 0; i < 1_000; i++) expect(xfetchElected(freshUntil, 10, 1, random(), freshUntil)).toBe(true);
  });

  it("elects with certainty when random is 0, and never for delta 0 before expiry", () => {
    expect(xfetchElected(freshUntil - 1e9, 1, 1, 0, freshUntil)).toBe(true);
    expect(xfetchElected(freshUntil - 1, 0, 1, 0.5, freshUntil)).toBe(false);
    expect(xfetchElected(freshUntil - 1, 0, 1, 0, freshUntil)).toBe(false);
  });

  const rate = (remaining: number, delta: number, beta = 1, trials = 20_000) => {
    const random = seededRandom(42);
    let elected = 0;
    for (let i = 0; i < trials; i++)
      if (xfetchElected(freshUntil - remaining, delta, beta, random(), freshUntil)) elected++;
    return elected / trials;
  };

  it("grows as expiry nears, matching exp(-remaining / (delta·beta))", () => {
    const rates = [400, 200, 100, 50, 10].map((remaining) => rate(remaining, 100));
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeGreaterThan(rates[i - 1] as number);
    // P(elected) = P(-ln U ≥ r/δβ) = exp(-r/δβ): at r = δ it is 1/e.
    expect(rate(100, 100)).toBeCloseTo(Math.exp(-1), 1);
    expect(rate(200, 100)).toBeCloseTo(Math.exp(-2), 1);
  });

  it("grows with the cost of the last fetch and with beta", () => {
    expect(rate(100, 200)).toBeGreaterThan(rate(100, 50));
    expect(rate(100, 50, 4)).toBeGreaterThan(rate(100, 50, 1));
  });
});
