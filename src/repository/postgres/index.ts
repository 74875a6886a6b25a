/**
 * The Postgres adapters of the repository port: pick a driver, wrap it in a database.
 *
 *   const db = createSqlDatabase({ driver: pgDriver({ url }) });   // or pgliteDriver()
 */

export { type PgDriverOptions, pgDriver } from "./pg-driver.js";
export { type PGliteLike, type PGliteQueryable, type PgliteDriverOptions, pgliteDriver } from "./pglite-driver.js";
export { quoteIdent } from "./quote-ident.js";
export { createSqlDatabase, type SqlDatabaseOptions } from "./sql-database.js";
export type { SqlDriver, SqlExecutor, SqlResult, SqlRow } from "./sql-driver.js";
export type { SqlLogger } from "./sql-logger.js";
export type { SqlScope } from "./sql-scope.js";
