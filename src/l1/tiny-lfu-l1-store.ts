import { checkL1StoreOptions } from "./check-l1-store-options.js";
import { FrequencySketch } from "./frequency-sketch.js";
import { HitBuffer } from "./hit-buffer.js";
import { toL1Stats } from "./l1-stats.js";
import type { L1Stats, L1Store, L1StoreOptions } from "./l1-store.js";
import { LinkedSlots } from "./linked-slots.js";
import { SettledValues } from "./settled-values.js";
import { ShadowLru } from "./shadow-lru.js";

export interface TinyLfuL1StoreOptions extends L1StoreOptions {
  /** Float in [0, 1); drives the random admission of warm candidates. Defaults to `Math.random`. */
  readonly random?: () => number;
  /** Hash seed of the frequency sketch; random per store by default (tests pin it). */
  readonly seed?: number;
  /** Resize the admission window by hill climbing (default true); false keeps it at its initial size. */
  readonly adaptive?: boolean;
}

// Regions, also the ids of their lists in `LinkedSlots`.
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/** The window starts at 1% of capacity (Caffeine's default); the main area splits 20% probation / 80% protected. */
const INITIAL_WINDOW = 0.01;
const PROTECTED_SHARE = 0.8;
/** A rejected candidate at least this popular is admitted anyway with probability 1/128 (hash-flooding defence). */
const WARM_CANDIDATE = 6;
const WARM_ADMISSION = 1 / 128;
/** Hill climbing, Caffeine's constants: step 6.25% of capacity, restart on a 5-point swing, else decay 2%. */
const STEP_SHARE = 0.0625;
const RESTART_THRESHOLD = 0.05;
const STEP_DECAY = 0.98;
/** Longest wait, in falls of the hit rate at a bound, before an exploration away from it (see `#step`). */
const EXPLORE_BACKOFF_MAX = 16;
/**
 * An exploration wins when it gains more than EXPLORE_WIN_NOISE × the noise (the mean |change| between samples of
 * one configuration, a moving average with weight NOISE_WEIGHT): ~1.6 standard deviations of such a change, if it
 * were Gaussian, so a false win is ~5%. (1× let loop@250 keep chance wins: −0.97 vs −0.39 points at 2×, 3× ≈ 2×.)
 */
const EXPLORE_WIN_NOISE = 2;
const NOISE_WEIGHT = 0.25;
/**
 * The LRU guard (see `#guard`): it judges every GUARD_LOOKUPS sampled lookups (or the shadow's capacity, if
 * larger); LRU is ahead when it hit GUARD_Z standard deviations and GUARD_MIN_LEAD of those lookups more than we
 * did; the window then grows by GUARD_GAIN × the lead × capacity (at least one climber step).
 */
const GUARD_LOOKUPS = 512;
const GUARD_Z = 2.5;
const GUARD_MIN_LEAD = 0.01;
const GUARD_GAIN = 2;
/**
 * The guard's duty cycle: once the store is full, GUARD_QUIET decisions in a row without LRU ahead, while the window
 * is at most SLEEP_WINDOW of the capacity (frequency mode: the guard is not holding a large window up), put the
 * shadow to sleep; IDLE_SPAN × capacity misses later it wakes empty, warms for one period, and judges again.
 */
const GUARD_QUIET = 2;
const SLEEP_WINDOW = 0.0625;
const IDLE_SPAN = 1;
/** Entries moved between regions per adaptation step; the rest of a large step carries over. */
const TRANSFER_LIMIT = 1000;

/**
 * W-TinyLFU (Einziger, Friedman, Manes: "TinyLFU: A Highly Efficient Cache Admission Policy"), laid out
 * like Caffeine's:
 *
 * - New entries enter a small LRU *admission window*. The window's overflow becomes a *candidate* for
 *   the main area, a segmented LRU: *probation* (entries seen once in main) and *protected* (80% of main;
 *   a probation hit is promoted there, the protected LRU is demoted back to probation).
 * - When the store is over capacity, the candidate competes with probation's LRU (the *victim*): the one
 *   the FrequencySketch estimates as less popular is evicted, ties going to the victim — so a scan of
 *   one-off keys passes through the window without displacing the popular set.
 * - The window's share adapts by hill climbing: every sample period (10 × capacity lookups) the hit rate
 *   is compared with the previous period's; the window keeps moving in the same direction while that
 *   helps, reverses when it hurts, with a decaying step (Caffeine's classic climber and constants); pinned at a
 *   bound, it takes a fall in the hit rate as noise and explores away only with backoff (see `#step`).
 * - An *LRU guard* makes the window follow recency-biased workloads, which the climber alone is too slow
 *   for (a drifting working set, keys read a few times then never again: it ended 5-35 points below LRU
 *   there). A ShadowLru (key hashes only, a spatial sample of ~1-2k keys for large caches) sees the same
 *   lookups; about every capacity lookups, if LRU hit significantly more of them than we did (a sign test
 *   on the lookups where the two disagree), the window grows at once in proportion to LRU's lead, up to
 *   capacity − 1 (main then holds one entry: the store behaves as an LRU). The climber shrinks it again
 *   when that pays. Design note: this is set dueling (Qureshi et al., ISCA 2007) against one fixed
 *   reference policy, with miniature simulation's sampling (Waldspurger et al., ATC 2017; Caffeine's
 *   simulator has a MiniSim climber over 100 window sizes) — one shadow is enough here because the goal is
 *   "never clearly below LRU", and it is paired (same lookups), so ~1,000 of them resolve a 2-3 point lead.
 *   Caffeine's newer hit-density climber (window vs main hits per entry, within one sample) was the other
 *   candidate; its own notes record blind corners and give-backs on frequency traces, and it targets caches
 *   above 4,096 entries. The shadow costs a hit some work, so it is fed hits only once the store is full, and it
 *   sleeps between duty cycles while the window is small and LRU keeps not being ahead (see GUARD_QUIET).
 *
 * Storage is preallocated at construction (slot arrays, typed-array links, expiry times, and the key
 * hashes, so a resident entry is never rehashed): a hit and an overwrite allocate nothing (the guard's
 * bookkeeping on a sampled hit is counters and a typed-array hash table).
 */
export class TinyLfuL1Store<V = unknown> implements L1Store<V> {
  readonly capacity: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #index = new Map<string, number>();
  readonly #keys: Array<string | undefined>;
  readonly #values: Array<V | undefined>;
  readonly #settled: SettledValues<V>;
  readonly #hashes: Int32Array;
  readonly #expiresAt: Float64Array;
  readonly #region: Uint8Array;
  readonly #lists: LinkedSlots;
  /** Stack of unused slots. One slot more than capacity: a new entry is linked before the eviction it causes. */
  readonly #free: Int32Array;
  #freeCount: number;
  readonly #sketch: FrequencySketch;
  /** Accesses on their way to the sketch (a hit or an overwrite records one), all applied before the sketch is read. */
  readonly #hitBuffer: HitBuffer;

  #windowSize = 0;
  #protectedSize = 0;
  #windowMax: number;
  #protectedMax: number;

  readonly #adaptive: boolean;
  /** `#hits` when the climber's sample began: the sample's hits are the difference (one counter less per hit). */
  #hitsAtSample = 0;
  #sampleMisses = 0;
  #previousHitRate = 0;
  /** The window's size when the climber last decided: whether the sample since then was a different configuration. */
  #decidedWindow = 0;
  /** Falls seen at a bound since the last exploration (see `#step`), and how many the next exploration waits for. */
  #pinned = 0;
  #exploreAfter = 1;
  #exploring = false;
  #exploredFrom = 0;
  /** Moving average of the hit rate's change between samples at a bound: the noise an exploration must beat. */
  #noise = 0;
  #stepSize: number;
  /** Window resize still to apply, in entries (positive grows the window). */
  #adjustment = 0;
  readonly #shadow: ShadowLru | undefined;
  readonly #shadowMask: number;
  /** Per store slot: where the shadow holds that key (a hint for `ShadowLru.touch`). */
  readonly #shadowSlots: Int32Array;
  readonly #guardPeriod: number;
  /** The shadow is fed only while on: asleep between duty cycles, once LRU was not ahead GUARD_QUIET times running. */
  #shadowOn: boolean;
  #warming = false;
  /** Whether the store has been full since it was built or cleared. */
  #filled = false;
  /**
   * Hits feed the shadow only once the store is full (before that neither side has evicted anything, so only the
   * order of the adds matters) and while the shadow is on: a hit on a store that is not full costs nothing extra.
   */
  #feedHits = false;
  #quiet = 0;
  #idleMisses = 0;
  readonly #idleSpan: number;
  #shadowRequests = 0;
  /** Sampled lookups only LRU hit, and only this store hit: the two sides of a paired comparison. */
  #lruOnlyHits = 0;
  #ownOnlyHits = 0;
  /** The next climber sample only sets the baseline: the guard moved the window during the current one. */
  #rebase = false;

  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;
  #invalidations = 0;

  constructor(options: TinyLfuL1StoreOptions) {
    const { capacity, ttlMs, now } = checkL1StoreOptions(options, "tinylfu");
    this.capacity = capacity;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#random = options.random ?? Math.random;
    this.#adaptive = options.adaptive ?? true;
    this.#sketch = new FrequencySketch(capacity, options.seed);

    const slots = capacity + 1;
    this.#keys = new Array<string | undefined>(slots).fill(undefined);
    this.#values = new Array<V | undefined>(slots).fill(undefined);
    this.#settled = new SettledValues<V>(slots);
    this.#hashes = new Int32Array(slots);
    this.#expiresAt = new Float64Array(slots);
    this.#region = new Uint8Array(slots);
    this.#hitBuffer = new HitBuffer(this.#sketch, this.#hashes);
    this.#lists = new LinkedSlots(slots, 3);
    this.#free = new Int32Array(slots);
    this.#freeCount = 0;
    this.#resetFreeSlots();

    this.#windowMax = Math.max(1, capacity - Math.floor((1 - INITIAL_WINDOW) * capacity));
    this.#protectedMax = Math.floor(PROTECTED_SHARE * (capacity - this.#windowMax));
    // Caffeine starts by shrinking the window: most workloads favour frequency.
    this.#stepSize = -STEP_SHARE * capacity;
    this.#shadow = this.#adaptive ? new ShadowLru(capacity) : undefined;
    this.#shadowMask = this.#shadow?.sampleMask ?? 0;
    this.#shadowSlots = new Int32Array(this.#shadow === undefined ? 0 : slots);
    this.#guardPeriod = Math.max(GUARD_LOOKUPS, this.#shadow?.capacity ?? 0);
    this.#shadowOn = this.#shadow !== undefined;
    this.#idleSpan = Math.round(IDLE_SPAN * capacity);
  }

  get size(): number {
    return this.#index.size;
  }

  /** Current maximum size of the admission window (it moves when `adaptive`). */
  get windowCapacity(): number {
    return this.#windowMax;
  }

  /** The estimated recent popularity of `key` (0 … 16), as the admission policy sees it. */
  frequency(key: string): number {
    this.#hitBuffer.flush();
    const slot = this.#index.get(key);
    return this.#sketch.frequency(slot === undefined ? this.#sketch.hash(key) : this.#hashes[slot]!);
  }

  get(key: string): V | undefined {
    const slot = this.#lookup(key);
    return slot < 0 ? undefined : this.#values[slot];
  }

  /** See L1Store.getSettled: the value as a settled promise, kept from the entry's second such lookup. */
  getSettled(key: string): Promise<V> | undefined {
    const slot = this.#lookup(key);
    return slot < 0 ? undefined : this.#settled.of(slot, this.#values[slot] as V);
  }

  /** The slot of `key`'s live entry, counted as a hit (an access to the policy), or -1 (a miss). */
  #lookup(key: string): number {
    const slot = this.#index.get(key);
    if (slot === undefined) {
      this.#miss();
      return -1;
    }
    const expiresAt = this.#expiresAt[slot]!;
    if (expiresAt !== Number.POSITIVE_INFINITY && expiresAt < this.#now()) {
      this.#removeExpired(slot);
      this.#miss();
      return -1;
    }
    this.#hits++;
    this.#onAccess(slot);
    if (this.#feedHits) {
      const h = this.#hashes[slot]!;
      if ((h & this.#shadowMask) === 0) this.#observeHit(slot, h);
    }
    return slot;
  }

  peek(key: string): V | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;
    const expiresAt = this.#expiresAt[slot]!;
    if (expiresAt !== Number.POSITIVE_INFINITY && expiresAt < this.#now()) return undefined;
    return this.#values[slot];
  }

  /**
   * `ttlMs` shortens the default lifetime for this entry (never lengthens it). A `ttlMs` that is not
   * positive means the value is already dead: any entry for `key` is dropped, uncounted. So does an undefined
   * `value` (as in lru-cache), so a lookup never finds a key whose value is undefined.
   * Overwriting a resident key counts as an access to it.
   */
  set(key: string, value: V, ttlMs?: number): void {
    let ttl = this.#ttlMs;
    if (ttlMs !== undefined && !(ttlMs >= ttl)) ttl = ttlMs; // NaN too: it then deletes, below
    // A ttl that is not positive, or an undefined value, deletes: the same contract as the lru store (lru-cache's).
    if (!(ttl > 0) || value === undefined) {
      const slot = this.#index.get(key);
      if (slot !== undefined) {
        this.#forget(slot);
        this.#remove(slot);
      }
      return;
    }
    const expiresAt = ttl === Number.POSITIVE_INFINITY ? ttl : this.#now() + ttl;
    const slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#values[slot] = value;
      this.#settled.drop(slot);
      this.#expiresAt[slot] = expiresAt;
      this.#onAccess(slot);
      return;
    }
    this.#add(key, value, expiresAt);
  }

  invalidate(key: string): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;
    this.#forget(slot);
    this.#remove(slot);
    this.#invalidations++;
    return true;
  }

  /** Drops every entry; counters, the frequency history and the window size are kept. */
  clear(): void {
    this.#index.clear();
    this.#keys.fill(undefined);
    this.#values.fill(undefined);
    this.#settled.clear();
    this.#lists.clear();
    this.#resetFreeSlots();
    this.#windowSize = 0;
    this.#protectedSize = 0;
    this.#shadow?.clear();
    this.#filled = false;
    this.#feedHits = false;
  }

  stats(): L1Stats {
    return toL1Stats({
      size: this.#index.size,
      capacity: this.capacity,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
      invalidations: this.#invalidations,
    });
  }

  #miss(): undefined {
    this.#misses++;
    this.#sampleMisses++;
    if (!this.#shadowOn && this.#shadow !== undefined && ++this.#idleMisses >= this.#idleSpan) this.#wakeShadow();
    if (
      this.#adaptive &&
      (this.#hits - this.#hitsAtSample + this.#sampleMisses >= this.#sketch.sampleSize ||
        this.#shadowRequests >= this.#guardPeriod ||
        this.#adjustment !== 0 ||
        this.#protectedSize > this.#protectedMax)
    ) {
      this.#climb();
    }
    return undefined;
  }

  /** A hit or an overwrite: count it in the sketch and refresh the entry's position in its region. */
  #onAccess(slot: number): void {
    // Counted in the sketch later, in a batch: the sketch update was most of the cost of a hit.
    this.#hitBuffer.record(slot);
    const region = this.#region[slot]!;
    // Kept small, so that V8 inlines the whole hit: a region's id is its list's.
    if (region === PROBATION) this.#promote(slot);
    else this.#lists.moveToEnd(region, slot);
  }

  /** A second access in main proves the entry: promote it, demoting protected's LRU if that overflows. */
  #promote(slot: number): void {
    this.#lists.moveToEnd(PROTECTED, slot);
    this.#region[slot] = PROTECTED;
    this.#protectedSize++;
    if (this.#protectedSize > this.#protectedMax) this.#demoteProtected();
  }

  #add(key: string, value: V, expiresAt: number): void {
    const slot = this.#free[--this.#freeCount]!;
    const hash = this.#sketch.hash(key);
    this.#hitBuffer.recordNew(slot, hash); // before the slot takes `hash`
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#hashes[slot] = hash;
    this.#expiresAt[slot] = expiresAt;
    this.#region[slot] = WINDOW;
    this.#index.set(key, slot);
    this.#lists.append(WINDOW, slot);
    this.#windowSize++;
    if (!this.#filled && this.#index.size > this.capacity) {
      // The store just filled up: evictions start, so hits matter to the duel from now on.
      this.#filled = true;
      if (this.#shadow !== undefined) {
        if (!this.#shadowOn) this.#wakeShadow();
        this.#feedHits = true;
      }
    }
    if (this.#shadowOn && (hash & this.#shadowMask) === 0) this.#observeAdd(slot, hash);
    this.#evict();
  }

  /** An entry dropped for a reason LRU shares (invalidated, expired, deleted) leaves the shadow too: a fair duel. */
  #forget(slot: number): void {
    const h = this.#hashes[slot]!;
    if (this.#shadowOn && (h & this.#shadowMask) === 0) this.#shadow!.remove(h);
  }

  /** Starts a duty cycle of the guard: an empty shadow, one period to warm it, then decisions. */
  #wakeShadow(): void {
    this.#shadow!.clear();
    this.#shadowOn = true;
    this.#feedHits = this.#filled;
    this.#warming = true;
    this.#idleMisses = 0;
    this.#shadowRequests = 0;
    this.#lruOnlyHits = 0;
    this.#ownOnlyHits = 0;
  }

  /** A sampled hit: would LRU have hit it too? (Usually answered by `touch`, without a hash-table probe.) */
  #observeHit(slot: number, h: number): void {
    // Judged here too, so a run of hits alone (nothing to gain from LRU) also lets the shadow sleep.
    if (++this.#shadowRequests >= this.#guardPeriod) this.#guard();
    const shadow = this.#shadow!;
    if (shadow.touch(this.#shadowSlots[slot]!, h)) return;
    const result = shadow.access(h);
    this.#shadowSlots[slot] = result >>> 1;
    if ((result & 1) === 0) this.#ownOnlyHits++;
  }

  /** A sampled add, after our miss: would LRU have hit it? */
  #observeAdd(slot: number, h: number): void {
    this.#shadowRequests++;
    const result = this.#shadow!.access(h);
    this.#shadowSlots[slot] = result >>> 1;
    if ((result & 1) === 1) this.#lruOnlyHits++;
  }

  /**
   * Moves the window's overflow to probation as candidates, then, while over capacity, evicts the less
   * popular of the first candidate and probation's LRU (Caffeine's `evictEntries`, for unit weights).
   */
  #evict(): void {
    const lists = this.#lists;
    let candidate = -1;
    while (this.#windowSize > this.#windowMax) {
      const slot = lists.first(WINDOW);
      lists.moveToEnd(PROBATION, slot);
      this.#region[slot] = PROBATION;
      this.#windowSize--;
      if (candidate === -1) candidate = slot;
    }
    while (this.#index.size > this.capacity) {
      // With nothing leaving the window, its LRU entry competes in place.
      if (candidate === -1) candidate = lists.first(WINDOW);
      const victim = this.#victim();
      if (candidate === -1 || candidate === victim) {
        this.#remove(victim);
        this.#evictions++;
        candidate = -1;
      } else if (this.#isExpired(candidate)) {
        this.#removeExpired(candidate);
      } else if (this.#isExpired(victim)) {
        this.#removeExpired(victim);
      } else if (this.#admit(this.#hashes[candidate]!, this.#hashes[victim]!)) {
        this.#remove(victim);
        this.#evictions++;
      } else {
        const next = lists.after(candidate);
        this.#remove(candidate);
        this.#evictions++;
        candidate = next;
      }
    }
  }

  /** Main's least valuable entry: probation's LRU, else protected's, else (main empty) the window's. */
  #victim(): number {
    const lists = this.#lists;
    let victim = lists.first(PROBATION);
    if (victim === -1) victim = lists.first(PROTECTED);
    if (victim === -1) victim = lists.first(WINDOW);
    return victim;
  }

  /**
   * TinyLFU admission: the candidate enters main only if it is more popular than the victim. A warm
   * candidate that loses still gets in once in a while: an attacker who inflates the victims' counts
   * (hash flooding) would otherwise freeze the main area and starve every newcomer.
   */
  #admit(candidateHash: number, victimHash: number): boolean {
    // The add that evicts has flushed already (recordNew); flushing here keeps this read from depending on that.
    this.#hitBuffer.flush();
    const candidateFrequency = this.#sketch.frequency(candidateHash);
    const victimFrequency = this.#sketch.frequency(victimHash);
    if (candidateFrequency > victimFrequency) return true;
    return candidateFrequency >= WARM_CANDIDATE && this.#random() < WARM_ADMISSION;
  }

  #isExpired(slot: number): boolean {
    const expiresAt = this.#expiresAt[slot]!;
    return expiresAt !== Number.POSITIVE_INFINITY && expiresAt < this.#now();
  }

  /** A dead entry found while evicting goes first, whatever its popularity: it is purged, not evicted. */
  #removeExpired(slot: number): void {
    this.#forget(slot);
    this.#remove(slot);
    this.#expirations++;
  }

  #remove(slot: number): void {
    this.#lists.unlink(slot);
    const region = this.#region[slot];
    if (region === WINDOW) this.#windowSize--;
    else if (region === PROTECTED) this.#protectedSize--;
    this.#index.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#settled.drop(slot);
    this.#free[this.#freeCount++] = slot;
  }

  #demoteProtected(): void {
    const slot = this.#lists.first(PROTECTED);
    this.#lists.moveToEnd(PROBATION, slot);
    this.#region[slot] = PROBATION;
    this.#protectedSize--;
  }

  /** Hill climbing (Caffeine's `climb`): decide a resize once per sample, then apply it in bounded steps. */
  #climb(): void {
    if (this.#shadowRequests >= this.#guardPeriod) this.#guard();
    const sampleHits = this.#hits - this.#hitsAtSample;
    const requests = sampleHits + this.#sampleMisses;
    if (requests >= this.#sketch.sampleSize) {
      const hitRate = sampleHits / requests;
      if (this.#rebase) {
        this.#rebase = false;
      } else {
        this.#adjustment = Math.trunc(this.#step(hitRate - this.#previousHitRate));
      }
      this.#previousHitRate = hitRate;
      this.#decidedWindow = this.#windowMax;
      this.#hitsAtSample = this.#hits;
      this.#sampleMisses = 0;
    }
    if (this.#adjustment > 0) this.#growWindow();
    else if (this.#adjustment < 0) this.#shrinkWindow();
    this.#demoteOverflow();
  }

  /**
   * The climber's move after a sample whose hit rate changed by `change` (Caffeine's rule: keep going while the
   * hit rate does not fall, else turn back, with a decaying step) — except while the window is pinned at a bound
   * (the last step moved nothing, so the two samples are one configuration and the change is noise; it also feeds
   * the noise estimate). There a fall is a chance to explore away from the bound, taken with exponential backoff
   * (after an exploration that lost, the next one waits for twice as many falls, up to EXPLORE_BACKOFF_MAX). An
   * exploration wins only by gaining clearly more than the noise; else the window goes straight back to where it
   * was, and the next sample is only a baseline (judged as a step of its own, the way back restarted the wander).
   * On a loop larger than the cache the hit rate swings ±5 points sample to sample at a fixed window: turning back
   * on every fall sent the window from 1 entry to a full step and back every few samples (~1 point lost), while a
   * rare exploration still finds a larger window that pays (loop-and-drift).
   */
  #step(change: number): number {
    const moved = this.#windowMax !== this.#decidedWindow;
    if (!moved) this.#noise += NOISE_WEIGHT * (Math.abs(change) - this.#noise);
    if (this.#exploring) {
      this.#exploring = false;
      if (change <= EXPLORE_WIN_NOISE * this.#noise) {
        this.#exploreAfter = Math.min(2 * this.#exploreAfter, EXPLORE_BACKOFF_MAX);
        this.#stepSize = -STEP_DECAY * this.#stepSize;
        this.#rebase = true;
        return this.#exploredFrom - this.#windowMax;
      }
      this.#exploreAfter = 1;
    }
    let reverse = change < 0;
    if (!moved) {
      if (reverse && ++this.#pinned < this.#exploreAfter) reverse = false;
      else if (reverse) {
        this.#pinned = 0;
        this.#exploring = true;
        this.#exploredFrom = this.#windowMax;
      }
    } else {
      this.#pinned = 0;
    }
    const amount = reverse ? -this.#stepSize : this.#stepSize;
    this.#stepSize =
      Math.abs(change) >= RESTART_THRESHOLD ? STEP_SHARE * this.capacity * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
    return amount;
  }

  /**
   * The LRU guard: when plain LRU would have hit significantly more of the same sampled lookups (a sign test on
   * the lookups where the two disagree), the window is too small for this workload — grow it now, doubling the
   * growth while LRU stays ahead, and point the hill climber upwards.
   */
  #guard(): void {
    const ahead = this.#lruOnlyHits - this.#ownOnlyHits;
    if (this.#warming) {
      this.#warming = false;
    } else if (
      ahead > GUARD_Z * Math.sqrt(this.#lruOnlyHits + this.#ownOnlyHits) &&
      ahead > GUARD_MIN_LEAD * this.#shadowRequests
    ) {
      this.#quiet = 0;
      const step = STEP_SHARE * this.capacity;
      let growth = Math.max(step, (GUARD_GAIN * ahead * this.capacity) / this.#shadowRequests);
      if (this.#exploring) {
        // The climber was exploring: downwards, it lost (LRU says so), so the window goes back at least to where it
        // started, and the next exploration waits longer; upwards, this growth takes over.
        this.#exploring = false;
        if (this.#exploredFrom > this.#windowMax) {
          growth = Math.max(growth, this.#exploredFrom - this.#windowMax);
          this.#exploreAfter = Math.min(2 * this.#exploreAfter, EXPLORE_BACKOFF_MAX);
        }
      }
      this.#adjustment = Math.max(this.#adjustment, 0) + Math.trunc(growth);
      this.#stepSize = step;
      this.#rebase = true;
    } else if (this.#filled && ++this.#quiet >= GUARD_QUIET && this.#windowMax <= SLEEP_WINDOW * this.capacity) {
      // LRU is not ahead: let the shadow sleep (its upkeep is most of what the guard costs a hit) for a while.
      this.#quiet = 0;
      this.#shadowOn = false;
      this.#feedHits = false;
    }
    this.#shadowRequests = 0;
    this.#lruOnlyHits = 0;
    this.#ownOnlyHits = 0;
  }

  /**
   * Moves capacity to the window (from protected's share first, like Caffeine, then probation's; the window
   * stops at capacity − 1), and main's LRU entries with it (probation's first).
   */
  #growWindow(): void {
    const quota = Math.min(this.#adjustment, this.capacity - 1 - this.#windowMax);
    const lists = this.#lists;
    let moved = 0;
    let mainEmpty = false;
    while (moved < quota && moved < TRANSFER_LIMIT) {
      let slot = lists.first(PROBATION);
      if (slot === -1) {
        slot = lists.first(PROTECTED);
        if (slot === -1) {
          mainEmpty = true;
          break;
        }
        this.#protectedSize--;
      }
      lists.moveToEnd(WINDOW, slot);
      this.#region[slot] = WINDOW;
      this.#windowSize++;
      moved++;
    }
    // Capacity follows the entries moved; what the transfer limit held back is owed to the next call.
    const applied = mainEmpty ? quota : moved;
    this.#windowMax += applied;
    this.#protectedMax = Math.max(0, this.#protectedMax - applied);
    this.#adjustment = quota - applied;
  }

  /** Moves capacity from the window to protected (up to its 80% of main), and the window's overflow to probation. */
  #shrinkWindow(): void {
    const target = this.#windowMax - Math.min(-this.#adjustment, this.#windowMax - 1);
    const lists = this.#lists;
    for (let moved = 0; this.#windowSize > target && moved < TRANSFER_LIMIT; moved++) {
      const slot = lists.first(WINDOW);
      lists.moveToEnd(PROBATION, slot);
      this.#region[slot] = PROBATION;
      this.#windowSize--;
    }
    const windowMax = Math.max(target, this.#windowSize);
    this.#protectedMax = Math.min(
      this.#protectedMax + this.#windowMax - windowMax,
      Math.floor(PROTECTED_SHARE * (this.capacity - windowMax)),
    );
    this.#adjustment = target - windowMax;
    this.#windowMax = windowMax;
  }

  /** Demotes protected's LRU entries while protected is over its share (bounded; the rest waits). */
  #demoteOverflow(): void {
    for (let moved = 0; this.#protectedSize > this.#protectedMax && moved < TRANSFER_LIMIT; moved++) {
      this.#demoteProtected();
    }
  }

  #resetFreeSlots(): void {
    const slots = this.#free.length;
    for (let i = 0; i < slots; i++) this.#free[i] = slots - 1 - i;
    this.#freeCount = slots;
  }
}
