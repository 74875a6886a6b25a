/** Where stratacache reports what it absorbed (Redis failures, retries, degraded features). */
export interface Logger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** The default: warnings and errors to stderr, prefixed; debug and info dropped. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn(message, fields) {
    console.warn(`[stratacache] ${message}`, fields ?? "");
  },
  error(message, fields) {
    console.error(`[stratacache] ${message}`, fields ?? "");
  },
};

/** Drops everything; for tests and benchmarks that assert on their own output. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
