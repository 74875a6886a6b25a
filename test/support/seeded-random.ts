/**
 * The tests' one seeded PRNG: a linear congruential generator (the classic 1103515245 / 12345, modulo 2^31), so a
 * randomized test or a statistical check draws the same sequence on every run. Not for anything but tests.
 */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}
