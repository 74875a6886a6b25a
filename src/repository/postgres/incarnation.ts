/**
 * How an insert picks the row's incarnation (see `StoredRow.incarnation`): the value must order every life of an id
 * after the previous ones, so cache fences never let an old life win (no stale fill; every committed write is seen).
 *
 * Exports: `insertStatement(table, returning): string`.
 *
 * A bare sequence is not enough: `TRUNCATE … RESTART IDENTITY`, `ALTER SEQUENCE … RESTART` and a restore from backup
 * all send it back, and a re-seeded id would then get an incarnation at or below its old life's, whose cached
 * entries would be served and fence out the new row. So the incarnation is
 *
 *   setval(seq, GREATEST(nextval(seq), <clock_timestamp() in µs since the epoch>))
 *
 * on the column's own sequence (the identity our migration creates, or any serial/owned sequence): it always grows
 * with the clock, whatever happened to the sequence, and the sequence keeps it strictly growing when the clock
 * stalls or steps back. Values stay below 2^53 until the year 2255. A table without an owned sequence gets the clock
 * alone. Nothing in the table changes: tables created by earlier versions (an identity column) work as they are.
 * Inserts made outside the library still take the column default (the sequence), which the library has pushed to
 * the clock, except right after a sequence reset; prefer the library (or the same expression) for those.
 */
export function insertStatement(table: string, returning: string, tenant = false): string {
  const literal = `'${table.replaceAll("'", "''")}'`;
  // A tenant-scoped table takes the tenant as $3.
  return `WITH v AS (SELECT pg_get_serial_sequence(${literal}, 'incarnation')::regclass AS seq, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now)
INSERT INTO ${table} (id, rev, incarnation, data${tenant ? ", tenant" : ""}) OVERRIDING SYSTEM VALUE
SELECT COALESCE($1::uuid, gen_random_uuid()), 1, COALESCE(setval(v.seq, GREATEST(nextval(v.seq), v.now)), v.now), $2::jsonb${tenant ? ", $3::text" : ""} FROM v
RETURNING ${returning}`;
}
