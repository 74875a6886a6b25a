/** Where stratacache reports what it absorbed (Redis failures, retries, degraded features). */
export interface Logger {
  /** Detail for diagnosis (e.g. a push channel re-arming); off in consoleLogger. */
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Notable but normal events; off in consoleLogger. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Something failed and was absorbed (a Redis error served from Postgres, a retry, a disarmed channel). */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Something failed that needs attention: a write-through gave up, an afterCommit hook threw, Redis refused the database. */
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
