/**
 * Where a change source reports how its relay fares (the runtime passes its health monitor of the capture, shown in
 * `runtime.health()` as `change-capture`): `failed` after each failed attempt (a batch not applied, a replication
 * session that ended in error), with the reason the log line and `health()` carry; `succeeded` once an attempt works
 * again (a batch applied, a session streaming, or standing by behind another process that owns the slot).
 */
export interface RelayHealth {
  succeeded(): void;
  failed(reason: string): void;
}
