/**
 * Redis Cluster hash slots (CRC16/XMODEM of the key, or of its `{hash tag}`, mod 16384), so multi-key reads and
 * multi-key writes can be split into one round trip per slot. Only used when the client is a Cluster.
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

export function hashSlot(key: string): number {
  const bytes = Buffer.from(key, "utf8");
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc & 0x3fff;
}

/** Indices of `keys` grouped by slot; a single group (all indices) for a standalone server. */
export function groupBySlot(keys: ReadonlyArray<string>, cluster: boolean): Array<number[]> {
  if (keys.length === 0) return []; // no batch at all: Redis refuses MGET/DEL without keys
  if (!cluster) return [keys.map((_, i) => i)];
  const groups = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = hashSlot(key);
    const group = groups.get(slot);
    if (group) group.push(i);
    else groups.set(slot, [i]);
  });
  return [...groups.values()];
}
