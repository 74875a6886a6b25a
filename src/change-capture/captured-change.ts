/**
 * One committed row change as a change source reports it: which row of which table now has which version. Sources
 * never carry bodies: the relay invalidates, and the next read fetches the row from Postgres.
 */

/** Which document table a change belongs to: its schema and name as the catalog spells them (unquoted). */
export interface CapturedTable {
  readonly schema: string;
  readonly table: string;
}

/**
 * - `"upsert"`: the row `id` now has the version (incarnation, rev) (an INSERT or UPDATE).
 * - `"delete"`: the life `incarnation` of `id` ended (a DELETE, or an UPDATE that moved the row to another id).
 * - `"truncate"`: every row of the table is gone.
 */
export type CapturedChange =
  | {
      readonly kind: "upsert";
      readonly table: CapturedTable;
      readonly id: string;
      readonly incarnation: number;
      readonly rev: number;
    }
  | { readonly kind: "delete"; readonly table: CapturedTable; readonly id: string; readonly incarnation: number }
  | { readonly kind: "truncate"; readonly table: CapturedTable };

/** A map key for a table (names may hold any character but NUL). */
export function tableKey(table: CapturedTable): string {
  return `${table.schema}\u0000${table.table}`;
}
