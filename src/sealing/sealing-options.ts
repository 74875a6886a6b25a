import type { Compression, CompressionOptions } from "./compression.js";
import { parseCompression } from "./compression.js";
import type { KeyringOptions } from "./keyring.js";
import { Keyring, keyring } from "./keyring.js";
import type { SealingConfig } from "./value-sealer.js";

/** The sealing options of a cache route (redisModule and memoryCacheModule `caches.<name>`). */
export interface SealingOptions {
  /**
   * Encrypt every L2 value of this route (document entries and key/value entries) with AES-256-GCM, bound to where
   * it lives (namespace, tenant, id or key, schema and version). A `keyring()` or its options. L1 holds plaintext.
   */
  readonly encryption?: Keyring | KeyringOptions;
  /** Compress values of at least `thresholdBytes` before they are encrypted: `true` for gzip over 1 KiB. */
  readonly compression?: boolean | CompressionOptions;
}

/** The sealing of a route's options, or undefined when it has neither encryption nor compression. */
export function parseSealing(
  options: { readonly encryption?: unknown; readonly compression?: unknown },
  path: string,
): SealingConfig | undefined {
  const ring =
    options.encryption === undefined
      ? undefined
      : options.encryption instanceof Keyring
        ? options.encryption
        : keyring(options.encryption as KeyringOptions, `${path}.encryption`);
  const compression: Compression | undefined = parseCompression(options.compression, `${path}.compression`);
  if (ring === undefined && compression === undefined) return undefined;
  return { keyring: ring, compression };
}
