/**
 * Bélády's optimal hit ratio (OPT / MIN), computed exactly: on a miss over capacity, evict the resident key
 * whose next use is farthest away — the requested key included, so a key never used again bypasses the
 * cache (as Caffeine's clairvoyant policy does).
 *
 * Every access index has a unique "next use" value (the index of the key's next access, or N + i when
 * there is none), so a max-heap of plain numbers with lazy deletion suffices: an entry is stale when its
 * key has been evicted or accessed again since it was pushed.
 */
export function optimalHits(keys: ArrayLike<number>, capacity: number): number {
  const n = keys.length;
  const ids = new Int32Array(n);
  const idOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    let id = idOf.get(key);
    if (id === undefined) {
      id = idOf.size;
      idOf.set(key, id);
    }
    ids[i] = id;
  }
  const nextUse = new Float64Array(n);
  const seen = new Float64Array(idOf.size).fill(-1);
  for (let i = n - 1; i >= 0; i--) {
    const id = ids[i]!;
    nextUse[i] = seen[id]! >= 0 ? seen[id]! : n + i;
    seen[id] = i;
  }
  const idAt = (use: number): number => ids[use >= n ? use - n : use]!;
  // After the loop above, `seen` is reused as each resident key's current next use (-1: not resident).
  const current = seen.fill(-1);
  const heap = new Float64Array(n + 1);
  let heapSize = 0;
  const push = (value: number): void => {
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! >= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap[--heapSize]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && heap[child + 1]! > heap[child]!) child++;
      if (heap[child]! <= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  };

  let hits = 0;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const use = nextUse[i]!;
    if (current[id]! >= 0) hits++;
    else size++;
    current[id] = use;
    push(use);
    if (size > capacity) {
      for (;;) {
        const farthest = pop();
        const victim = idAt(farthest);
        if (current[victim] === farthest) {
          current[victim] = -1;
          size--;
          break;
        }
      }
    }
  }
  return hits;
}
