/** Bounded concurrency: a slot per running handler. */
export class Slots {
  #free: number;
  readonly #waiters: ((granted: boolean) => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** `true` at once when a slot is free (no promise on the hot path); otherwise resolves when one is, or `false` at shutdown. */
  acquire(): Promise<boolean> | true {
    if (this.#free > 0) {
      this.#free -= 1;
      return true;
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Every slot free now (at least one, waiting for it in turn with `acquire`'s callers), or 0 at
   * shutdown: what a pull asks for when no message may wait in this process.
   */
  async acquireFree(): Promise<number> {
    const first = this.acquire();
    if (first !== true && !(await first)) return 0;
    const more = this.#free;
    this.#free = 0;
    return 1 + more;
  }

  /** Hands each slot to the longest waiter, or frees it. */
  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.#waiters.shift();
      if (next) next(true);
      else this.#free += 1;
    }
  }

  get saturated(): boolean {
    return this.#free === 0;
  }

  /** Wakes every waiter without a slot (shutdown). */
  refuseWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter(false);
  }
}
