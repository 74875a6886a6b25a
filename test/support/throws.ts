import { expect } from "vitest";
import { ConfigurationError } from "../../src/index.js";

/** What `fn` threw; fails the test when it returns instead. */
export function thrown(fn: () => unknown, expected = "a throw"): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${expected}`);
}

/** What `call` (a promise, or a function returning one, which may also throw at once) rejected with. */
export async function rejection(call: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown> {
  try {
    await (typeof call === "function" ? call() : call);
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** What a StrataError must carry, beside its class. */
export interface ExpectedError {
  readonly code?: string;
  readonly path?: string;
  /** The message starts with the path and a space (the option checks' message shape). */
  readonly messageStartsWithPath?: boolean;
}

/**
 * The tests' one "expect it to throw this error" check: `fn` throws an instance of `type`, with the `code` and `path`
 * given (when given); returns the error, typed.
 */
export function expectThrows<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  expected: ExpectedError = {},
): E {
  const error = thrown(fn, `a ${type.name}`);
  return expectError(error, type, expected);
}

/** The same check on a value already caught (e.g. the result of `rejection`). */
export function expectError<E extends Error>(
  error: unknown,
  type: new (...args: never[]) => E,
  expected: ExpectedError = {},
): E {
  expect(error).toBeInstanceOf(type);
  const typed = error as E & { code?: string; path?: string };
  if (expected.code !== undefined) expect(typed.code).toBe(expected.code);
  if (expected.path !== undefined) expect(typed.path).toBe(expected.path);
  if (expected.messageStartsWithPath && expected.path) expect(typed.message.startsWith(`${expected.path} `)).toBe(true);
  return typed;
}

/** `expectThrows(fn, ConfigurationError, expected)`: the most common refusal, a bad option. */
export function expectConfigurationError(fn: () => unknown, expected: ExpectedError = {}): ConfigurationError {
  return expectThrows(fn, ConfigurationError, expected);
}
