/** Pure pieces of the SQL adapter: identifier quoting, id/rev checks, row mapping, abort racing. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { abortableCall as abortable } from "../../src/kernel/abortable.js";
import { AbortError, ConfigurationError, ValidationError } from "../../src/kernel/errors.js";
import { checkDocumentId as checkId, checkRev, isDocumentId as isUuid } from "../../src/repository/document-id.js";
import { qualifiedTableName, quoteIdent } from "../../src/repository/postgres/quote-ident.js";
import { toNumber, toStoredRow } from "../../src/repository/postgres/stored-row.js";

describe("quoteIdent", () => {
  it("wraps in double quotes and doubles inner quotes", () => {
    expect(quoteIdent("products")).toBe('"products"');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteIdent('"; DROP TABLE x; --')).toBe('"""; DROP TABLE x; --"');
    expect(qualifiedTableName({ schema: "app", table: "Products" })).toBe('"app"."Products"');
  });

  it("round-trips: the quoted form always parses back to the original name", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes("\0")),
        (name) => {
          const quoted = quoteIdent(name);
          expect(quoted.startsWith('"') && quoted.endsWith('"')).toBe(true);
          const inner = quoted.slice(1, -1);
          expect(inner.replaceAll('""', "")).not.toContain('"');
          expect(inner.replaceAll('""', '"')).toBe(name);
        },
      ),
    );
  });

  it("refuses empty, NUL and names over 63 bytes, naming the setting", () => {
    expect(() => quoteIdent("", "table")).toThrow(new ConfigurationError("table", "must not be empty"));
    expect(() => quoteIdent("a\0b", "schema")).toThrow(/^schema must not contain a NUL/);
    expect(quoteIdent("a".repeat(63))).toHaveLength(65);
    expect(() => quoteIdent("a".repeat(64))).toThrow(/at most 63 bytes \(got 64\)/);
    expect(() => quoteIdent("ü".repeat(32))).toThrow(/got 64/);
  });
});

describe("id and rev checks", () => {
  it("accepts canonical UUIDs in any case and returns them lower-cased", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.boolean(), (id, upper) => {
        const input = upper ? id.toUpperCase() : id;
        expect(isUuid(input)).toBe(true);
        expect(checkId("docs", input)).toBe(id.toLowerCase());
      }),
    );
  });

  it("refuses anything else with an invalid_id ValidationError", () => {
    for (const bad of ["'; DROP TABLE x; --", "1 OR 1=1", "", "0", "{00000000-0000-0000-0000-000000000000}", null, 7]) {
      expect(isUuid(bad)).toBe(false);
      const error = (() => {
        try {
          checkId("docs", bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: "VALIDATION",
        document: "docs",
        issues: [{ path: ["id"], code: "invalid_id" }],
      });
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s));
        expect(isUuid(s)).toBe(false);
      }),
    );
  });

  it("accepts only positive safe-integer revs", () => {
    expect(checkRev("docs", 1)).toBe(1);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "1"]) {
      expect(() => checkRev("docs", bad)).toThrow(ValidationError);
    }
  });
});

describe("row mapping", () => {
  it("turns pg's bigint strings into numbers and keeps dates and data", () => {
    const createdAt = new Date("2024-01-01T00:00:00Z");
    const row = toStoredRow({
      id: "00000000-0000-0000-0000-000000000001",
      rev: "3",
      incarnation: "17",
      created_at: createdAt,
      updated_at: "2024-01-02T00:00:00Z",
      data: '{"a":1}',
    });
    expect(row).toEqual({
      id: "00000000-0000-0000-0000-000000000001",
      rev: 3,
      incarnation: 17,
      createdAt,
      updatedAt: new Date("2024-01-02T00:00:00Z"),
      data: { a: 1 },
    });
    // Timestamps as rowColumns selects them (epoch ms: pg's int8 text, PGlite's number or bigint), and NULL.
    const at = (created_at: unknown) => toStoredRow({ ...base, created_at }).createdAt.getTime();
    const base = { id: "00000000-0000-0000-0000-000000000001", rev: 1, incarnation: 1, updated_at: 0, data: {} };
    expect(at("1704067200123")).toBe(1704067200123);
    expect(at(-124)).toBe(-124);
    expect(at(1704067200123n)).toBe(1704067200123);
    expect(at(null)).toBeNaN();
    expect(toNumber(5n, "rev")).toBe(5);
    expect(() => toNumber("9007199254740993", "rev")).toThrow(/not a safe integer/);
    expect(() =>
      toStoredRow({ id: "x", rev: 1, incarnation: 1, created_at: createdAt, updated_at: createdAt, data: [] }),
    ).toThrow(/not a JSON object/);
  });
});

describe("abortable", () => {
  it("does not start the work when already aborted", async () => {
    let started = false;
    const run = () =>
      abortable(async () => {
        started = true;
      }, AbortSignal.abort());
    expect(run).toThrow(AbortError);
    expect(started).toBe(false);
  });

  it("rejects when the signal fires first, and passes results and errors through otherwise", async () => {
    const controller = new AbortController();
    const pending = abortable(() => new Promise<number>(() => {}), controller.signal);
    controller.abort("stop");
    await expect(pending).rejects.toMatchObject({ code: "ABORTED", cause: "stop" });
    await expect(abortable(async () => 1, new AbortController().signal)).resolves.toBe(1);
    await expect(abortable(async () => Promise.reject(new Error("x")), undefined)).rejects.toThrow("x");
  });
});
