/**
 * Calls per second over a sliding window: the placer records each placement's instant, the
 * `callflow_dialer_achieved_calls_per_second` gauge reads the rate when scraped. Pure apart from the
 * instants it is given, which come from one clock in order; kept bounded by dropping what has left the window.
 */
export class SlidingRate {
  private readonly instants: number[] = [];

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError("windowMs must be positive");
  }

  /** One event at `atMs` (epoch milliseconds). */
  record(atMs: number): void {
    this.instants.push(atMs);
    this.prune(atMs);
  }

  /** Events per second in (nowMs − windowMs, nowMs]. */
  perSecond(nowMs: number): number {
    this.prune(nowMs);
    const inWindow = this.instants.filter((at) => at <= nowMs).length;
    return inWindow / (this.windowMs / 1000);
  }

  private prune(nowMs: number): void {
    const from = nowMs - this.windowMs;
    let drop = 0;
    while (drop < this.instants.length && this.instants[drop]! <= from) drop += 1;
    if (drop > 0) this.instants.splice(0, drop);
  }
}

/** The most events in any window [t, t + widthMs) that starts at one of them (the busiest second, for widthMs 1000). */
export const busiestWindow = (instantsMs: readonly number[], widthMs = 1_000): number => {
  const sorted = [...instantsMs].sort((a, b) => a - b);
  let best = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + widthMs) end += 1;
    best = Math.max(best, end - start);
  }
  return best;
};
