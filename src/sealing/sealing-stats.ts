/** Counters of one cache route's value sealing (encryption and compression), in `runtime.stats().caches[name]`. */
export interface SealingStats {
  /** Whether values are encrypted (the route has an `encryption` keyring). */
  readonly encrypted: boolean;
  /** Values encrypted on write. */
  readonly sealed: number;
  /** Values decrypted and authenticated on read. */
  readonly opened: number;
  /**
   * Values that failed authentication — moved from another id, key, tenant or namespace, altered, or stored in clear
   * where the route encrypts — and were treated as misses, never returned.
   */
  readonly authFailed: number;
  /** Values sealed with a key id this keyring does not hold (a removed key): misses, not errors. */
  readonly unknownKey: number;
  /** Values whose sealing header or compressed stream was unreadable: misses. */
  readonly corrupt: number;
  /** Values compressed on write (at or over the threshold, and smaller once compressed). */
  readonly compressed: number;
  /** Bytes compression saved across those writes (plain size minus compressed size). */
  readonly bytesSaved: number;
}

/** The mutable counters behind SealingStats. */
export class SealingCounters {
  sealed = 0;
  opened = 0;
  authFailed = 0;
  unknownKey = 0;
  corrupt = 0;
  compressed = 0;
  bytesSaved = 0;

  snapshot(encrypted: boolean): SealingStats {
    return {
      encrypted,
      sealed: this.sealed,
      opened: this.opened,
      authFailed: this.authFailed,
      unknownKey: this.unknownKey,
      corrupt: this.corrupt,
      compressed: this.compressed,
      bytesSaved: this.bytesSaved,
    };
  }
}
