/**
 * Wakes a worker waiting on a provider job when the provider's webhook for it arrives in this
 * process. Across processes the worker's own polling (and the database) is what it relies on.
 */
export interface JobSignals {
  /** Resolves "signalled" on notify(jobId), "elapsed" after `ms`, or rejects when `signal` aborts. */
  wait(jobId: string, ms: number, signal: AbortSignal): Promise<"signalled" | "elapsed">;
  /** True when a waiter in this process was woken. */
  notify(jobId: string): boolean;
}

export function createJobSignals(): JobSignals {
  const waiters = new Map<string, Set<() => void>>();
  return {
    wait: (jobId, ms, signal) =>
      new Promise((resolve, reject) => {
        const set = waiters.get(jobId) ?? new Set();
        waiters.set(jobId, set);
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", abort);
          set.delete(wake);
          if (set.size === 0) waiters.delete(jobId);
        };
        const wake = () => {
          done();
          resolve("signalled");
        };
        const abort = () => {
          done();
          reject(signal.reason instanceof Error ? signal.reason : new Error("cancelled"));
        };
        const timer = setTimeout(() => {
          done();
          resolve("elapsed");
        }, Math.max(0, ms));
        if (signal.aborted) return abort();
        signal.addEventListener("abort", abort, { once: true });
        set.add(wake);
      }),
    notify: (jobId) => {
      const set = waiters.get(jobId);
      if (!set || set.size === 0) return false;
      for (const wake of [...set]) wake();
      return true;
    },
  };
}
