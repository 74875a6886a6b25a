/**
 * The verdict lines every benchmark ends with: one per performance goal it measures, so a missed goal is said in
 * the output (and in the results JSON), never left for the reader to work out from a ratio.
 */
export interface Goal {
  /** The goal and what was measured, e.g. "L2 hit p50 ≤ 1.1× raw (1.04×)". */
  readonly goal: string;
  readonly met: boolean;
}

/** Prints `goal met: …` / `GOAL MISSED: …` per goal and a summary line; returns whether all were met. */
export function reportGoals(goals: ReadonlyArray<Goal>): boolean {
  console.log("");
  for (const { goal, met } of goals) console.log(met ? `goal met: ${goal}` : `GOAL MISSED: ${goal}`);
  const missed = goals.filter((g) => !g.met).length;
  console.log(
    missed === 0
      ? `all ${goals.length} goal(s) met`
      : `${missed} of ${goals.length} goal(s) missed (see GOAL MISSED above)`,
  );
  return missed === 0;
}
