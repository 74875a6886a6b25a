import type { Logger } from "../../kernel/logger.js";

/**
 * Where the SQL layer reports failures it must not throw (an afterCommit hook that failed, a throwing `onQuery`):
 * the error level of the library's Logger, so any Logger (and its default, consoleLogger) serves.
 */
export type SqlLogger = Pick<Logger, "error">;
