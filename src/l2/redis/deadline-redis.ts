import type { Command, RedisOptions } from "ioredis";
import { Redis } from "ioredis";
import { DeadlineQueue } from "../../kernel/deadline-queue.js";

/**
 * The client stratacache creates for itself: ioredis' `commandTimeout`, on one timer per connection.
 *
 * ioredis arms a timer per command for `commandTimeout` (a Timeout object, a timer-list insert, then a clearTimeout:
 * about a tenth of the Node CPU of an L2 hit). Every command here has the same timeout, so the deadlines are in
 * send order and one DeadlineQueue holds them all. What a caller sees is ioredis' own: a command unanswered after
 * `timeoutMs` — sent, or still in the offline queue (a dedicated tenant connection's first attempt) — rejects with
 * `Error("Command timed out")`, its late reply ignored. Every command goes through `sendCommand` (pipelines and
 * scripts too), where ioredis armed its timer; one resent after a reconnect keeps its first deadline, as there.
 */
export class DeadlineRedis extends Redis {
  /** The deadline of every command, in ms (what `commandTimeout` would have been). */
  readonly timeoutMs: number;
  readonly #deadlines: DeadlineQueue<Command>;

  /** `url`, when given, is parsed as `new Redis(url, options)` does (its parts win over `options`). */
  constructor(url: string | undefined, options: RedisOptions, timeoutMs: number) {
    // lazyConnect: nothing may be sent before the queue below exists. ioredis skips an undefined first argument.
    super(url as string, { ...options, commandTimeout: undefined, lazyConnect: true });
    this.timeoutMs = timeoutMs;
    this.#deadlines = new DeadlineQueue<Command>(timeoutMs, isResolved, timeOut);
  }

  /** Commands held for their deadline: unanswered ones, and answered ones not yet dropped (tests). */
  get pendingDeadlines(): number {
    return this.#deadlines.size;
  }

  override sendCommand(command: Command, stream?: Parameters<Redis["sendCommand"]>[1]): unknown {
    // ioredis marks a command resolved only when a reply resolves it. One rejected (an error reply, a closed
    // connection) would look pending until its deadline, and hold every command queued behind it until then, so
    // its rejection marks it too. (isResolved only gates ioredis' own timers, which this client does not arm.)
    const reject = command.reject;
    command.reject = (error: Error) => {
      command.isResolved = true;
      reject(error);
    };
    this.#deadlines.add(command);
    return super.sendCommand(command, stream);
  }
}

/** Answered: resolved by ioredis, or rejected (see sendCommand). */
function isResolved(command: Command): boolean {
  return command.isResolved;
}

function timeOut(command: Command): void {
  command.reject(new Error("Command timed out"));
}
