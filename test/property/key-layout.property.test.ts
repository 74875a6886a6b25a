import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  entryPrefix,
  idKey,
  idleClockPrefix,
  kvPrefix,
  parseEntryKey,
  versionFloorPrefix,
} from "../../src/l2/key-layout.js";

// Namespaces may hold ":", "|", "{", "}" and even ":d:{" (cache names are free-form); ids are UUIDs.
const namespace = fc.stringMatching(/^[a-z:|{}d]{1,16}$/);
const fingerprint = fc.stringMatching(/^[0-9a-f]{12}$/);
const id = fc.uuid();

describe("key layout: compose and parse", () => {
  it("parses every entry key back into its prefix and id", () => {
    fc.assert(
      fc.property(namespace, fingerprint, id, (ns, fp, docId) => {
        const prefix = entryPrefix(ns, fp);
        expect(parseEntryKey(idKey(prefix, docId))).toEqual({ prefix, id: docId });
      }),
    );
  });

  it("parses no companion (idle clock, version floor) and no key/value key as an entry", () => {
    fc.assert(
      fc.property(namespace, fingerprint, id, fc.string(), (ns, fp, docId, kvKey) => {
        expect(parseEntryKey(idKey(idleClockPrefix(ns, fp), docId))?.prefix).not.toBe(entryPrefix(ns, fp));
        expect(parseEntryKey(idKey(versionFloorPrefix(ns, fp), docId))?.prefix).not.toBe(entryPrefix(ns, fp));
        expect(parseEntryKey(kvPrefix(ns) + kvKey)?.prefix).not.toBe(entryPrefix(ns, fp));
      }),
    );
  });

  it("keeps an entry and its companions in one cluster slot (same hash tag) and outside `<namespace>:`", () => {
    fc.assert(
      fc.property(namespace, fingerprint, id, (ns, fp, docId) => {
        const tag = (key: string) => key.slice(key.lastIndexOf("{"));
        const entry = idKey(entryPrefix(ns, fp), docId);
        for (const companion of [idKey(idleClockPrefix(ns, fp), docId), idKey(versionFloorPrefix(ns, fp), docId)]) {
          expect(tag(companion)).toBe(tag(entry));
          expect(companion.startsWith(`${ns}:`)).toBe(false);
        }
        expect(entry.startsWith(`${ns}:`)).toBe(true);
      }),
    );
  });
});
