import { callChannel, readBatchChannel, readBatchStartChannel } from "./event-channels.js";
import { wallNow } from "./publish.js";
import type { ReadBatchEvent } from "./read-batch-events.js";

/**
 * One getMany batch past L1, observed: created only when a batch or call channel has a subscriber, so an unobserved
 * batch allocates nothing for it. It is itself the ReadBatchEvent payload, published on start and end.
 */
export class ReadBatchTrace implements ReadBatchEvent {
  fetched: number | undefined = undefined;
  failed: boolean | undefined = undefined;
  durationMs = 0;
  readonly startTime = wallNow();

  private constructor(
    readonly document: string,
    readonly ids: number,
  ) {}

  /** A trace when someone listens, else undefined. */
  static begin(document: string, ids: number): ReadBatchTrace | undefined {
    if (!readBatchChannel.hasSubscribers && !readBatchStartChannel.hasSubscribers && !callChannel.hasSubscribers) {
      return undefined;
    }
    const trace = new ReadBatchTrace(document, ids);
    if (readBatchStartChannel.hasSubscribers) readBatchStartChannel.publish(trace);
    return trace;
  }

  /** The batch ended: published once. */
  end(fetched: number, failed: boolean): void {
    if (this.failed !== undefined) return;
    this.fetched = fetched;
    this.failed = failed;
    this.durationMs = wallNow() - this.startTime;
    if (readBatchChannel.hasSubscribers) readBatchChannel.publish(this);
  }
}
