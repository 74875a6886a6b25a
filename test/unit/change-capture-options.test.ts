/**
 * Change-capture options are refused whole, at construction, with a ConfigurationError naming the path: a bad
 * `changeCapture` value, two modes in one module, logical mode without a url, bad `changeRelay` keys and values, and
 * a relaying runtime that does not list its captured documents.
 */
import { describe, expect, it } from "vitest";
import { ConfigurationError, createRuntime, postgresModule } from "../../src/index.js";
import { productSpec } from "../support/strata.js";

const url = "postgres://postgres@127.0.0.1:5432/none";
const refused = (build: () => unknown, path: string) => {
  let error: unknown;
  try {
    build();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as ConfigurationError).message).toContain(path);
};

describe("change-capture options", () => {
  it.each([
    ["a bad changeCapture value", { documents: { products: { changeCapture: "wal2json" } } }, "products.changeCapture"],
    [
      "two modes in one module",
      { documents: { products: { changeCapture: true }, gadgets: { changeCapture: "logical" } } },
      "postgresModule.documents",
    ],
    ["an unknown changeRelay key", { documents: { products: {} }, changeRelay: { polInterval: 5 } }, "changeRelay"],
    [
      "a bad poll interval",
      { documents: { products: { changeCapture: true } }, changeRelay: { pollInterval: "soon" } },
      "changeRelay.pollInterval",
    ],
    [
      "a bad slot name",
      { documents: { products: { changeCapture: "logical" } }, changeRelay: { slot: "Bad Slot" } },
      "changeRelay.slot",
    ],
  ])("refuses %s", (_name, options, path) => {
    refused(() => postgresModule({ url, ...(options as object) } as never), path);
  });

  it('refuses "logical" without a url (a replication session needs one)', () => {
    refused(
      () => postgresModule({ pglite: true, documents: { products: { changeCapture: "logical" } } }),
      "postgresModule.url",
    );
  });

  it("refuses a relaying runtime whose captured documents are not listed, and accepts it listed or relay-less", () => {
    const modules = (enabled: boolean) => [
      postgresModule({ url, documents: { products: { changeCapture: true } }, changeRelay: { enabled } }),
    ];
    refused(() => createRuntime({ modules: modules(true) }), "documents.products");
    expect(createRuntime({ modules: modules(true), documents: [productSpec()] }).state).toBe("created");
    expect(createRuntime({ modules: modules(false) }).state).toBe("created");
  });
});
