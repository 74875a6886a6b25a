import type { CachePort, CacheSetOptions, CacheValue } from "../l2/cache-port.js";

/**
 * A key/value port that asks the runtime whether it is still started before every call, as the document ports do: a
 * port kept past `stop()` rejects with RuntimeStateError ("STOPPED"), never with a closed connection's UNAVAILABLE.
 */
export class RunningCachePort implements CachePort {
  constructor(
    private readonly port: CachePort,
    private readonly ensureRunning: () => void,
  ) {}

  async get<T = CacheValue>(key: string): Promise<T | undefined> {
    this.ensureRunning();
    return this.port.get<T>(key);
  }

  async getMany<T = CacheValue>(keys: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    this.ensureRunning();
    return this.port.getMany<T>(keys);
  }

  async exists(key: string): Promise<boolean> {
    this.ensureRunning();
    return this.port.exists(key);
  }

  async set(key: string, value: CacheValue, options?: CacheSetOptions): Promise<void> {
    this.ensureRunning();
    return this.port.set(key, value, options);
  }

  async setMany(
    entries: ReadonlyArray<readonly [key: string, value: CacheValue]>,
    options?: CacheSetOptions,
  ): Promise<void> {
    this.ensureRunning();
    return this.port.setMany(entries, options);
  }

  async delete(key: string): Promise<boolean> {
    this.ensureRunning();
    return this.port.delete(key);
  }

  async deleteMany(keys: ReadonlyArray<string>): Promise<number> {
    this.ensureRunning();
    return this.port.deleteMany(keys);
  }
}
