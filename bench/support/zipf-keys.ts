/**
 * `count` keys drawn from a Zipf distribution (exponent `s`) over `distinct` ids, precomputed so that key
 * generation is not part of what a benchmark measures. Keys are interned strings (`${prefix}${id}`): every
 * access to an id shares one string, as keys coming from a parsed request would not — but a hash is then
 * cached per string, which favours no store in particular.
 */
export function zipfKeys(options: {
  readonly count: number;
  readonly distinct: number;
  readonly s?: number;
  readonly seed?: number;
  readonly prefix?: string;
}): string[] {
  const { count, distinct, s = 0.99, seed = 1, prefix = "key:" } = options;
  const cumulative = new Float64Array(distinct);
  let total = 0;
  for (let i = 0; i < distinct; i++) {
    total += 1 / (i + 1) ** s;
    cumulative[i] = total;
  }
  const random = xorshift(seed);
  const names = Array.from({ length: distinct }, (_, i) => `${prefix}${i}`);
  const keys = new Array<string>(count);
  for (let n = 0; n < count; n++) {
    const target = random() * total;
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    keys[n] = names[lo]!;
  }
  return keys;
}

/** A small seeded PRNG (xorshift32): floats in [0, 1). */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}
