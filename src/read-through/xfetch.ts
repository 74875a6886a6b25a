/**
 * XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015): a hit
 * recomputes early when `now − delta·beta·ln(random) ≥ freshUntil`. Since ln(random) ≤ 0, the reach past `now`
 * grows with the cost of the last recompute (`delta`, ms) and with `beta`; far from expiry almost no hit is elected,
 * at the horizon every one is, and independent replicas spread their recomputes out instead of stampeding.
 * `random` is in [0, 1); 0 means certain election. An entry with delta 0 (written through, never measured) is only
 * elected once it has expired.
 */
export function xfetchElected(now: number, delta: number, beta: number, random: number, freshUntil: number): boolean {
  return now - delta * beta * Math.log(random) >= freshUntil;
}
