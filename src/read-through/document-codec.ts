import type { EntryRead } from "../l2/document-entry.js";
import type { StoredRow } from "../repository/document-repository.js";
import type { DocumentMeta } from "../spec/document-spec.js";
import type { FieldCodec } from "../spec/field-codec.js";

/** A read document before typing: the fields plus meta, deep-frozen. */
export type FrozenDocument = DocumentMeta & Readonly<Record<string, unknown>>;

/**
 * Builds the document a caller sees: meta first, then the fields (meta wins over a field of the same name).
 * `codec` revives declared Date/bigint fields (on a copy: `row.data` is also what L2 bodies are encoded from).
 */
export function documentFromRow(row: StoredRow, codec?: FieldCodec): FrozenDocument {
  const doc: Record<string, unknown> = {
    id: row.id,
    rev: row.rev,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ...(codec === undefined ? row.data : codec.revive(row.data)),
  };
  doc.id = row.id;
  doc.rev = row.rev;
  doc.createdAt = row.createdAt;
  doc.updatedAt = row.updatedAt;
  return freezeDocument(doc);
}

/**
 * The L2 body of a document: the document itself as JSON, timestamps as epoch milliseconds. Decoding is one
 * JSON.parse plus two Dates, with no copy; rev and incarnation are also in the envelope header, for the fence.
 *
 * The meta members are spliced onto the fields' own JSON rather than stringified from a spread copy: ~10× cheaper
 * (JSON.stringify of a freshly spread object takes its slow path; this runs for every entry a fill or write puts).
 * A field named like a meta member then appears twice, and JSON.parse keeps the last — the meta, as the spread did.
 */
export function encodeBody(row: StoredRow): string {
  const fields = JSON.stringify(row.data);
  // An id is a canonical UUID (checked on every way in, and Postgres' uuid text): nothing in it needs escaping.
  const meta = `"id":"${row.id}","rev":${row.rev},"createdAt":${row.createdAt.getTime()},"updatedAt":${row.updatedAt.getTime()}}`;
  // An object's JSON is `{…}`; anything else (a caller's toJSON) goes the general way.
  if (fields === "{}") return `{${meta}`;
  if (typeof fields === "string" && fields.charCodeAt(0) === 123 /* { */ && fields.endsWith("}")) {
    return `${fields.slice(0, -1)},${meta}`;
  }
  return JSON.stringify({
    ...row.data,
    id: row.id,
    rev: row.rev,
    createdAt: row.createdAt.getTime(),
    updatedAt: row.updatedAt.getTime(),
  });
}

/** The document in a body, or `undefined` when the body is not one (truncated, foreign, another id or rev). */
export function decodeBody(body: string, id: string, rev: number, codec?: FieldCodec): FrozenDocument | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return decodeParsed(parsed, id, rev, codec);
}

/** Joined bodies longer than this (UTF-16 units in all) are parsed one by one: a big body gains nothing from it. */
const JOINED_LIMIT = 1 << 20;

/**
 * The bodies of a batch's entries in one JSON.parse: the value of each body, at its entry's index (`undefined` where
 * a read has no body), or `undefined` when they cannot be parsed together — then decodeBody parses each on its own.
 *
 * Why: a JSON.parse call has a fixed cost that a small body does not amortise. One parse of `[b0,b1,…]` decoded a
 * warm 100-document batch ~0.07 µs a document faster than 100 parses of the same fresh strings (measured with the
 * envelope decode in front, as readMany does it; the same contract steps after). It answers what decodeBody would
 * for each entry: a body is only joined when it starts with `{` and ends with `}`; any body that does not parse
 * fails the whole parse (then each is parsed alone), and one whose top level holds more than one value changes the
 * count (likewise). Bodies could still be crafted so that two of them parse as two values at the wrong indices,
 * but each value is then checked against its own index's id and rev, as any body is: a writer able to craft that
 * could write those ids' entries outright.
 */
export function parseBodies(reads: ReadonlyArray<EntryRead>): Array<unknown> | undefined {
  let joined = "[";
  let count = 0;
  for (let i = 0; i < reads.length; i++) {
    const read = reads[i]!;
    if (typeof read === "string") continue;
    const body = read.body;
    // By index, not charCodeAt: the latter costs 2-3× as much once anything subclasses String (see document-id.ts).
    if (body[0] !== "{" || body[body.length - 1] !== "}") return undefined;
    joined += count === 0 ? body : `,${body}`;
    count++;
    if (joined.length > JOINED_LIMIT) return undefined;
  }
  if (count < 2) return undefined; // nothing to save
  let values: unknown;
  try {
    values = JSON.parse(`${joined}]`);
  } catch {
    return undefined;
  }
  if (!Array.isArray(values) || values.length !== count) return undefined;
  if (count === reads.length) return values; // every read an entry: already at their indices
  const out = new Array<unknown>(reads.length);
  for (let i = 0, k = 0; i < reads.length; i++) if (typeof reads[i] !== "string") out[i] = values[k++];
  return out;
}

/**
 * The document in a body's parsed value (see decodeBody), which this call takes over: it must be fresh from
 * JSON.parse and shared with nobody (it is revived, frozen and returned as is).
 */
export function decodeParsed(parsed: unknown, id: string, rev: number, codec?: FieldCodec): FrozenDocument | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const doc = parsed as Record<string, unknown>;
  if (doc.id !== id || doc.rev !== rev) return undefined;
  const { createdAt, updatedAt } = doc;
  if (typeof createdAt !== "number" || typeof updatedAt !== "number") return undefined;
  if (codec !== undefined) {
    codec.revive(doc, true); // just parsed, shared with nobody
    doc.id = id; // a catchall's codec must not touch meta
    doc.rev = rev;
  }
  // The fields first, while the timestamps are still numbers: the Dates are then frozen as they are made, with no
  // walk into them (freezeFresh enumerates an object's keys, up a Date's prototype chain too).
  for (const key in doc) {
    const item = doc[key];
    if (typeof item === "object" && item !== null) freezeFresh(item);
  }
  const created = Object.freeze(new Date(createdAt));
  doc.createdAt = created;
  // A document never updated has both at one instant: one frozen Date serves both. Each Date is ~60 ns to make and
  // freeze, a tenth of a small document's decode. Freezing does not stop a Date's setters: a caller that calls
  // `doc.createdAt.setTime(…)` (on a document meant to be immutable, and shared through L1 with every other reader
  // already) now moves `updatedAt` too. Documents read from Postgres have two Date objects.
  doc.updatedAt = updatedAt === createdAt ? created : Object.freeze(new Date(updatedAt));
  return Object.freeze(doc) as FrozenDocument;
}

/**
 * deepFreeze for a value this module just built from JSON (plus revived Dates): nothing in it is shared or frozen
 * yet and it has no cycles, so no `Object.isFrozen` check per object — a quarter of the freeze on every L2 hit.
 */
function freezeFresh(value: object): void {
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null) freezeFresh(item);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === "object" && item !== null) freezeFresh(item);
  }
}

function freezeDocument(doc: Record<string, unknown>): FrozenDocument {
  return deepFreeze(doc) as FrozenDocument;
}

/** Freezes plain objects and arrays all the way down (Dates are frozen as objects; their time is left as is). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) freezeTree(value);
  return value;
}

/**
 * The hot part of every decode: recursion only into unfrozen objects (most fields are primitives, so no call per
 * field), and an index loop for arrays (for…in would enumerate their indices as strings).
 */
function freezeTree(value: object): void {
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null && !Object.isFrozen(item)) freezeTree(item);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item === "object" && item !== null && !Object.isFrozen(item)) freezeTree(item);
  }
}
