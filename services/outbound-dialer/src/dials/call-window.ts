/**
 * A tenant's call window: minutes after local midnight, `[startMinute, endMinute)`, read in the
 * callee's time zone (UTC when the dial names none). An end at or before the start spans midnight.
 */
export interface CallWindow {
  readonly startMinute: number;
  readonly endMinute: number;
  readonly timeZone: string;
}

const MINUTES_A_DAY = 24 * 60;

interface LocalTime {
  year: number;
  month: number;
  day: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" });
    formatters.set(timeZone, formatter);
  }
  return formatter;
};

const localTime = (at: Date, timeZone: string): LocalTime => {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(at).map((part) => [part.type, Number(part.value)]));
  return { year: parts.year!, month: parts.month!, day: parts.day!, minute: parts.hour! * 60 + parts.minute! };
};

/** The instant a local wall-clock time names in `timeZone` (the later one when clocks go back). */
const instantOf = (local: { year: number; month: number; day: number; minute: number }, timeZone: string): Date => {
  const wall = Date.UTC(local.year, local.month - 1, local.day, 0, local.minute);
  let guess = wall;
  // Two corrections settle on the zone's offset at that instant, DST transitions included.
  for (let i = 0; i < 2; i += 1) {
    const seen = localTime(new Date(guess), timeZone);
    const seenWall = Date.UTC(seen.year, seen.month - 1, seen.day, 0, seen.minute);
    guess += wall - seenWall;
  }
  return new Date(guess);
};

const isOpenAt = (minute: number, window: CallWindow): boolean => {
  const { startMinute: start, endMinute: end } = window;
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
};

/** Whether `at` falls inside the window. A window of the whole day (0–1440) is always open. */
export const isWindowOpen = (at: Date, window: CallWindow): boolean => {
  if (window.endMinute - window.startMinute >= MINUTES_A_DAY) return true;
  return isOpenAt(localTime(at, window.timeZone).minute, window);
};

/** `at` itself when the window is open then, otherwise the next time it opens. */
export const nextWindowOpening = (at: Date, window: CallWindow): Date => {
  if (isWindowOpen(at, window)) return at;
  const local = localTime(at, window.timeZone);
  for (let days = 0; days <= 2; days += 1) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
    const opening = instantOf({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), minute: window.startMinute % MINUTES_A_DAY }, window.timeZone);
    if (opening.getTime() > at.getTime()) return opening;
  }
  throw new Error(`the call window ${window.startMinute}-${window.endMinute} in ${window.timeZone} never opens after ${at.toISOString()}`);
};
