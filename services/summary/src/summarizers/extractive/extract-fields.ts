import type { SummaryContent } from "../summary-content.ts";
import { DIGIT_WORDS, INTENTS, MONTHS, NOT_NAMES, ORDINAL_WORDS, STOPWORDS, WEEKDAYS } from "./lexicon.ts";

/**
 * The structured fields by pattern: a phone number to call back, the caller's name, a follow-up
 * date, the intent. Each returns null rather than a guess it cannot support.
 */

const DAY_MS = 86_400_000;
const isoDate = (date: Date): string => date.toISOString().slice(0, 10);
const utcDay = (date: Date): Date => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));

/** Numbers written as digits ("555-123-4567", "(555) 123 4567", "+1 555 123 4567") or spoken ("five five five …"). */
export function findCallbackNumber(text: string): string | null {
  const written = /(\+?\d[\d\s().-]{5,}\d)/g;
  for (const match of text.matchAll(written)) {
    const digits = match[1]!.replace(/[^\d+]/g, "");
    const count = digits.replace("+", "").length;
    // Dates (2024-03-05) and amounts are digits too; a phone number has 7 to 15.
    if (count >= 7 && count <= 15 && !/^\d{4}-\d{2}-\d{2}$/.test(match[1]!.trim())) return digits;
  }
  const words = text.toLowerCase().split(/[^a-z]+/).filter(Boolean);
  let run = "";
  for (const word of [...words, "."]) {
    const digit = DIGIT_WORDS[word];
    // "o" alone is only a zero inside a run of digits.
    if (digit !== undefined && (word !== "o" || run.length > 0)) {
      run += digit;
      continue;
    }
    if (run.length >= 7 && run.length <= 15) return run;
    run = "";
  }
  return null;
}

const titleCase = (name: string): string => name.replace(/\b[a-z]/g, (letter) => letter.toUpperCase());

const nameWord = (word: string | undefined, cased: boolean): boolean => {
  if (!word) return false;
  const lower = word.toLowerCase();
  if (STOPWORDS.has(lower) || NOT_NAMES.has(lower) || !/^[a-z][a-z'-]*$/i.test(word)) return false;
  // In a transcript with capitals, a name is capitalized; without them, there is no such signal.
  return !cased || /^[A-Z]/.test(word);
};

/** "my name is X [Y]" first (a caller introducing themselves), then "this is X [Y]". */
export function findCallerName(text: string): string | null {
  const cased = /[A-Z]/.test(text);
  for (const phrase of [/\bmy name is\s+/gi, /\bmy name's\s+/gi, /\bthis is\s+/gi]) {
    for (const match of text.matchAll(phrase)) {
      const [first, second] = text.slice(match.index + match[0].length).split(/[^A-Za-z'-]+/);
      if (!nameWord(first, cased)) continue;
      return titleCase(nameWord(second, cased) ? `${first} ${second}` : first!);
    }
  }
  return null;
}

/** The weekday's next occurrence after the reference day: "next friday" said on a monday is read as the coming friday, as most speakers mean it. */
const nextWeekday = (reference: Date, weekday: number): Date => {
  const ahead = (weekday - reference.getUTCDay() + 7) % 7 || 7;
  return new Date(reference.getTime() + ahead * DAY_MS);
};

const monthDay = (reference: Date, month: number, day: number): Date | null => {
  if (day < 1 || day > 31) return null;
  let date = new Date(Date.UTC(reference.getUTCFullYear(), month, day));
  if (date.getUTCMonth() !== month) return null;
  // A date already past this year is next year's ("on January 3" said in December).
  if (date < reference) date = new Date(Date.UTC(reference.getUTCFullYear() + 1, month, day));
  return date;
};

const MONTH = MONTHS.join("|");
const DAY_NUMBER = `(\\d{1,2})(?:st|nd|rd|th)?|(${Object.keys(ORDINAL_WORDS).sort((a, b) => b.length - a.length).join("|")})`;
const DATE_PATTERNS: readonly [RegExp, (match: RegExpMatchArray, reference: Date) => Date | null][] = [
  [/\b(\d{4})-(\d{2})-(\d{2})\b/g, (m) => {
    const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return isoDate(date) === `${m[1]}-${m[2]}-${m[3]}` ? date : null;
  }],
  [/\bday after tomorrow\b/g, (_, reference) => new Date(reference.getTime() + 2 * DAY_MS)],
  [/\btomorrow\b/g, (_, reference) => new Date(reference.getTime() + DAY_MS)],
  [new RegExp(`\\b(next|this|on|coming)\\s+(${WEEKDAYS.join("|")})\\b`, "g"), (m, reference) => nextWeekday(reference, WEEKDAYS.indexOf(m[2]!))],
  [new RegExp(`\\b(${MONTH})\\s+(?:the\\s+)?(?:${DAY_NUMBER})\\b`, "g"), (m, reference) => monthDay(reference, MONTHS.indexOf(m[1]!), Number(m[2] ?? ORDINAL_WORDS[m[3]!]))],
  [new RegExp(`\\b(?:the\\s+)?(?:${DAY_NUMBER})\\s+of\\s+(${MONTH})\\b`, "g"), (m, reference) => monthDay(reference, MONTHS.indexOf(m[3]!), Number(m[1] ?? ORDINAL_WORDS[m[2]!]))],
];

const FOLLOW_UP_CUE = /\b(call|follow|back|appointment|schedule|meet|meeting|visit|reach|contact|come|deliver|expect)\b/;

/** The first date mentioned where a follow-up is talked about, else the first date at all, as YYYY-MM-DD. */
export function findFollowUpDate(units: readonly string[], referenceDate: Date): string | null {
  const reference = utcDay(referenceDate);
  const datesIn = (unit: string): { at: number; date: Date }[] => {
    const lower = unit.toLowerCase();
    const found: { at: number; date: Date }[] = [];
    for (const [pattern, resolve] of DATE_PATTERNS) {
      for (const match of lower.matchAll(pattern)) {
        const date = resolve(match, reference);
        if (date) found.push({ at: match.index, date });
      }
    }
    return found.sort((a, b) => a.at - b.at);
  };
  let first: Date | undefined;
  for (const unit of units) {
    const dates = datesIn(unit);
    if (dates.length === 0) continue;
    if (FOLLOW_UP_CUE.test(unit.toLowerCase())) return isoDate(dates[0]!.date);
    first ??= dates[0]!.date;
  }
  return first ? isoDate(first) : null;
}

export function findIntent(text: string): string | null {
  const lower = text.toLowerCase();
  let best: { label: string; count: number } | undefined;
  for (const [label, keywords] of INTENTS) {
    const count = [...lower.matchAll(keywords)].length;
    if (count > 0 && (!best || count > best.count)) best = { label, count };
  }
  return best?.label ?? null;
}

export function extractFields(text: string, units: readonly string[], referenceDate: Date): SummaryContent["fields"] {
  return {
    callerName: findCallerName(text),
    intent: findIntent(text),
    followUpDate: findFollowUpDate(units, referenceDate),
    callbackNumber: findCallbackNumber(text),
  };
}
