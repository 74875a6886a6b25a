/**
 * Document codec: CPU per 100 documents of what every L2 hit decodes and every fill encodes, against plain JSON on
 * the same documents. No servers. Goals (ours, from issue 19's diagnosis): decoding an entry (envelope header, body,
 * checks, two Dates, deep freeze) ≤ 1.5× JSON.parse of the same body; encoding a body ≤ 0.5× what a plain client's
 * JSON.stringify of the row costs (its Dates go through toJSON).
 *
 *   npm run bench -- codec            # 9 rounds
 *   npm run bench -- codec --quick    # 5 rounds
 *
 * Rows, each the median of the rounds:
 * - decode: JSON.parse of the body (the floor: what a raw client does); decodeBody (parse, id/rev checks, Dates,
 *   deep freeze); decodeEntry + decodeBody (what an L2 hit runs: the envelope header too); decodeEntryBytes +
 *   decodeBody (what a getMany hit runs: from the Buffer reply).
 * - encode: JSON.stringify of the fields (the floor); encodeBody (the meta spliced onto the fields' JSON); a spread
 *   copy stringified (the encoding before issue 19: JSON.stringify's slow path on a freshly spread object);
 *   JSON.stringify of the whole row (what a plain client does: Dates through toJSON).
 * Writes bench/results/codec.json and .svg.
 */
import { randomUUID } from "node:crypto";
import { decodeEntry, decodeEntryBytes, encodeEntry } from "../src/l2/entry-envelope.js";
import { decodeBody, encodeBody } from "../src/read-through/document-codec.js";
import type { StoredRow } from "../src/repository/document-repository.js";
import { reportGoals } from "./support/goals.js";
import { fmt, median, printTable, writeResults } from "./support/measure.js";
import { writeBarChart } from "./support/svg-bar-chart.js";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 5 : 9;
const BATCH = 100;
const CALLS = 2_000; // batches per round
const FINGERPRINT = "c0dec0de";

/** Fields as Postgres hands jsonb back (JSON.parse of its text), the shape the peers bench uses. */
const rows: StoredRow[] = Array.from({ length: BATCH }, (_, g) => ({
  id: randomUUID(),
  rev: 1 + (g % 5),
  incarnation: g + 1,
  createdAt: new Date(1_700_000_000_000 + g),
  updatedAt: new Date(1_700_000_500_000 + g),
  data: JSON.parse(JSON.stringify({ name: `product ${g}`, price: g, tags: ["bench", `t${g % 7}`] })),
}));
const bodies = rows.map((row) => encodeBody(row));
const envelopes = rows.map((row, i) =>
  encodeEntry(FINGERPRINT, {
    incarnation: row.incarnation,
    rev: row.rev,
    fetchedAt: 1_700_000_600_000,
    delta: 3,
    freshUntil: 1_800_000_000_000,
    body: bodies[i] as string,
  }),
);

/** The envelopes as Redis' Buffer replies (the batch read decodes those). */
const envelopeBytes = envelopes.map((envelope) => Buffer.from(envelope));
const FINGERPRINT_BYTES = Buffer.from(FINGERPRINT);

let sink: unknown;
/** µs per batch of `BATCH` documents: the median of ROUNDS rounds of CALLS batches, after a warm-up round. */
function measure(batch: () => void): number {
  for (let i = 0; i < CALLS; i++) batch();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) batch();
    rounds.push(Number(process.hrtime.bigint() - start) / 1_000 / CALLS);
  }
  return median(rounds);
}

const decode = [
  {
    name: "JSON.parse of the body",
    us: measure(() => {
      for (const body of bodies) sink = JSON.parse(body);
    }),
  },
  {
    name: "decodeBody",
    us: measure(() => {
      for (let i = 0; i < BATCH; i++) sink = decodeBody(bodies[i] as string, rows[i]!.id, rows[i]!.rev);
    }),
  },
  {
    name: "decodeEntry + decodeBody (an L2 hit)",
    us: measure(() => decodeAll((i) => decodeEntry(FINGERPRINT, envelopes[i] as string))),
  },
  {
    name: "decodeEntryBytes + decodeBody (a getMany hit)",
    us: measure(() => decodeAll((i) => decodeEntryBytes(FINGERPRINT_BYTES, envelopeBytes[i] as Buffer))),
  },
];
const encode = [
  {
    name: "JSON.stringify of the fields",
    us: measure(() => {
      for (const row of rows) sink = JSON.stringify(row.data);
    }),
  },
  {
    name: "encodeBody",
    us: measure(() => {
      for (const row of rows) sink = encodeBody(row);
    }),
  },
  {
    name: "spread copy, stringified (before)",
    us: measure(() => {
      for (const row of rows) {
        const { id, rev, createdAt, updatedAt } = row;
        sink = JSON.stringify({ ...row.data, id, rev, createdAt: createdAt.getTime(), updatedAt: updatedAt.getTime() });
      }
    }),
  },
  {
    name: "JSON.stringify of the row",
    us: measure(() => {
      for (const row of rows) sink = JSON.stringify(row);
    }),
  },
];
if (sink === undefined) throw new Error("codec bench: nothing measured");

const decodeFloor = decode[0]!.us;
const encodeFloor = encode[0]!.us;
printTable(
  `Document codec — µs per ${BATCH} documents, medians of ${ROUNDS} rounds of ${CALLS} batches`,
  ["step", "operation", "µs / 100", "÷ floor"],
  [
    ...decode.map((d) => ["decode", d.name, fmt(d.us), `${fmt(d.us / decodeFloor, 2)}×`]),
    ...encode.map((e) => ["encode", e.name, fmt(e.us), `${fmt(e.us / encodeFloor, 2)}×`]),
  ],
);
const l2Hit = decode[2]!.us / decodeFloor;
const encoded = encode[1]!.us / encode[3]!.us;
const met = reportGoals([
  { goal: `decoding an entry ≤ 1.5× JSON.parse of its body (${fmt(l2Hit, 2)}×)`, met: l2Hit <= 1.5 },
  { goal: `encoding a body ≤ 0.5× JSON.stringify of the row (${fmt(encoded, 2)}×)`, met: encoded <= 0.5 },
]);
const file = writeResults("codec", {
  date: new Date().toISOString(),
  rounds: ROUNDS,
  batch: BATCH,
  decode,
  encode,
  ratios: { decodeEntry: l2Hit, encodeBody: encoded },
  met,
});
const chart = writeBarChart("codec", {
  title: `Document codec: µs per ${BATCH} documents`,
  unit: "µs",
  bars: [
    ...decode.map((d) => ({ group: "decode", label: d.name, value: d.us })),
    ...encode.map((e) => ({ group: "encode", label: e.name, value: e.us })),
  ],
});
console.log(`\nwrote ${file} and ${chart}`);

/** Decodes the batch's envelopes with `entryAt`, then each body: what a read does per document. */
function decodeAll(entryAt: (i: number) => ReturnType<typeof decodeEntry>): void {
  for (let i = 0; i < BATCH; i++) {
    const entry = entryAt(i);
    if (typeof entry === "string") throw new Error(`codec bench: envelope ${i} is ${entry}`);
    sink = decodeBody(entry.body, rows[i]!.id, entry.rev);
  }
}
