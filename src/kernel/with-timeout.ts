/**
 * The one deadline helper: settles as `promise` does, or, if it has not after `ms`, with what `onTimeout` gives —
 * its return value, or its throw as a rejection (`rejectWith` makes that). The bounded work is not cancelled; its
 * late outcome is ignored. `unref`: the deadline alone does not keep the process alive.
 */
export function withTimeout<T, F = never>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => F,
  options?: { readonly unref?: boolean },
): Promise<T | F> {
  return new Promise<T | F>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
    if (options?.unref === true) timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** An `onTimeout` that rejects with `new Error(message)`. */
export function rejectWith(message: string): () => never {
  return () => {
    throw new Error(message);
  };
}
