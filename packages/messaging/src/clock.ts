/** The time a handler reads. Injected like any side effect, so a test moves it instead of waiting. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
