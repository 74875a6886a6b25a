/**
 * The bytes of a key/value entry written by the cache API (`ctx.cache(name)`), on every backend:
 *
 * - plain: the value's own bytes (cache-value-codec.ts: `j<json>`, `b<bytes>`, `u`) — an entry of generation 0
 *   without tags or freshness, which is what a plain `set` writes on a never-cleared namespace, and what the older
 *   raw port wrote;
 * - enveloped: `e<generation>|<freshUntil>|<deltaMs>[|<tag>|<version>]*\n<value bytes>`.
 *
 * An entry is live while its generation is the namespace's (`clear()` bumps it) and each tag's version is the
 * version the tag had when the entry was written (`invalidateTags` bumps them): invalidation costs O(tags), and a
 * read checks the versions of the tags the entry carries. The header is `|`-separated text so the Lua scripts
 * (redis/kv-scripts.ts) can check it without a JSON parser; tags therefore may not contain `|` (kv-input.ts).
 */
const ENVELOPE_TAG = 0x65; // "e"
const NEWLINE = 0x0a;

/** A stored entry, parsed. */
export interface KvEnvelope {
  readonly generation: number;
  /** Epoch ms after which the value is stale (served only within grace); 0 = fresh until it expires. */
  readonly freshUntil: number;
  /** How long the loader took to compute it (XFetch), ms; 0 when unknown. */
  readonly deltaMs: number;
  /** `[tag, version]` pairs, as written. */
  readonly tags: ReadonlyArray<readonly [string, number]>;
  /** The value's own bytes (decode with cache-value-codec.ts). */
  readonly value: Buffer;
}

const NO_TAGS: ReadonlyArray<readonly [string, number]> = [];

/** Builds the stored bytes; the plain form when nothing needs a header. */
export function encodeKvEnvelope(
  generation: number,
  freshUntil: number,
  deltaMs: number,
  tags: ReadonlyArray<readonly [string, number]>,
  value: Buffer,
): Buffer {
  if (generation === 0 && freshUntil === 0 && deltaMs === 0 && tags.length === 0) return value;
  let header = `e${generation}|${freshUntil}|${deltaMs}`;
  for (const [tag, version] of tags) header += `|${tag}|${version}`;
  return Buffer.concat([Buffer.from(`${header}\n`, "utf8"), value]);
}

/** The parsed entry, or undefined for an enveloped entry whose header is garbled (a miss). */
export function parseKvEnvelope(raw: Buffer): KvEnvelope | undefined {
  if (raw.length === 0 || raw[0] !== ENVELOPE_TAG) {
    return { generation: 0, freshUntil: 0, deltaMs: 0, tags: NO_TAGS, value: raw };
  }
  const end = raw.indexOf(NEWLINE);
  if (end < 0) return undefined;
  const fields = raw.toString("utf8", 1, end).split("|");
  if (fields.length < 3 || fields.length % 2 === 0) return undefined;
  const generation = wholeNumber(fields[0]);
  const freshUntil = wholeNumber(fields[1]);
  const deltaMs = wholeNumber(fields[2]);
  if (generation === undefined || freshUntil === undefined || deltaMs === undefined) return undefined;
  let tags = NO_TAGS;
  if (fields.length > 3) {
    const pairs: Array<readonly [string, number]> = [];
    for (let i = 3; i < fields.length; i += 2) {
      const version = wholeNumber(fields[i + 1]);
      if (version === undefined || fields[i] === "") return undefined;
      pairs.push([fields[i] as string, version]);
    }
    tags = pairs;
  }
  return { generation, freshUntil, deltaMs, tags, value: raw.subarray(end + 1) };
}

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  return Number(text);
}
