/**
 * Where the SQL layer reports failures it must not throw (an afterCommit hook that failed, a throwing `onQuery`).
 * Structurally compatible with console and with common loggers (pino, winston) via a one-line adapter.
 *
 * Exports: `SqlLogger`, `consoleLogger`.
 */

export interface SqlLogger {
  error(message: string, context?: Readonly<Record<string, unknown>>): void;
}

export const consoleLogger: SqlLogger = {
  error: (message, context) => console.error(`[stratacache] ${message}`, context ?? ""),
};
