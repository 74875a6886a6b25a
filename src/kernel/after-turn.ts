/**
 * Work to start once the current turn of the event loop is over: after the callbacks and microtasks now running,
 * in one `setImmediate` for everything queued meanwhile, in the order queued.
 *
 * Why: a read answers its caller as soon as Postgres does, and its fill goes to Redis behind it. Sent at once, the
 * fill (a Lua fence, the costliest command a read issues) sits in the connection ahead of whatever the caller does
 * next — typically its next read — and Redis runs it first: on a small machine a cold batch's fill took a quarter
 * to a third of the next batch's latency. Sent after the turn, the caller's next commands go first and the fill runs
 * while they wait on Postgres. Nothing waits longer for it in a way that matters: the fence decides what lands
 * whenever it arrives, and a read of the same id in this process joins the first until its fill settles
 * (SingleFlight).
 *
 * Everything queued starts in the one pass, however much: the same work each read did in its own continuation before,
 * moved to the end of the same turn. A cap per pass would let a sustained burst build a backlog that keeps flights
 * (and the reads joining them) open for ever longer.
 */
let queue: Array<() => void> = [];

function runQueued(): void {
  const ready = queue;
  queue = [];
  for (const start of ready) start();
}

/** `work()`'s result, `work` started after this turn (see above). A `work` that throws rejects the promise. */
export function afterTurn<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (queue.length === 0) setImmediate(runQueued);
    queue.push(() => {
      try {
        work().then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  });
}
