import type { Cluster } from "ioredis";

/**
 * Reads keys of many hash slots from a Redis Cluster: one MGET per slot (a cross-slot MGET is refused), the MGETs of
 * the slots one master serves sent together as one pipeline (one socket write per node, not per slot).
 *
 * The grouping by node uses the client's slot table, which can be stale during a failover or a reshard: a slot whose
 * MGET failed inside a pipeline (MOVED, ASK, TRYAGAIN, a closed connection) is read again as a plain MGET, which
 * ioredis routes, redirects and retries itself. Whatever still fails rejects, and the caller's deadline bounds it all:
 * a read that cannot finish in time falls through to Postgres.
 *
 * `groups` are the indices of `keys` per slot (hash-slot.ts `groupBySlot`); answers come back in `keys` order.
 */
export async function clusterMget(
  cluster: Cluster,
  keys: ReadonlyArray<string>,
  groups: ReadonlyArray<ReadonlyArray<number>>,
  slotOf: (key: string) => number,
): Promise<Array<string | null>> {
  const out = new Array<string | null>(keys.length).fill(null);
  const place = (group: ReadonlyArray<number>, values: ReadonlyArray<string | null>) => {
    for (let j = 0; j < group.length; j++) out[group[j]!] = values[j] ?? null;
  };
  if (groups.length === 1) {
    place(groups[0]!, await cluster.mget(groups[0]!.map((i) => keys[i]!)));
    return out;
  }
  const byNode = new Map<string, Array<ReadonlyArray<number>>>();
  for (const group of groups) {
    const node = cluster.slots[slotOf(keys[group[0]!]!)]?.[0] ?? "";
    const list = byNode.get(node);
    if (list === undefined) byNode.set(node, [group]);
    else list.push(group);
  }
  await Promise.all(
    [...byNode.values()].map(async (nodeGroups) => {
      if (nodeGroups.length === 1) {
        place(nodeGroups[0]!, await cluster.mget(nodeGroups[0]!.map((i) => keys[i]!)));
        return;
      }
      const pipeline = cluster.pipeline();
      for (const group of nodeGroups) pipeline.mget(group.map((i) => keys[i]!));
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await pipeline.exec();
      } catch {
        replies = null; // the whole pipeline failed (e.g. its node went away): read slot by slot below
      }
      await Promise.all(
        nodeGroups.map(async (group, k) => {
          const reply = replies?.[k];
          if (reply !== undefined && reply[0] === null) place(group, reply[1] as Array<string | null>);
          else place(group, await cluster.mget(group.map((i) => keys[i]!)));
        }),
      );
    }),
  );
  return out;
}
