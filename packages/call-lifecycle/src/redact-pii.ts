import nlp from "compromise";

/**
 * PII redaction of what Callflow stores of a call's speech: its transcript (every provider's) and its
 * summary. One redactor, used by the transcription worker and the summary stage when the call's
 * `redact_pii` is set (docs/design.md, "PII redaction"). Imported as `@callflow/call-lifecycle/redact-pii`,
 * not from the package's index, so services that never redact do not load compromise. A service that
 * uses it lists compromise among its own dependencies too: its bundle then loads compromise from
 * node_modules (scripts/build-service.mjs keeps a service's npm dependencies external) instead of
 * carrying its lexicon in the bundle's source text. What it finds is replaced by a label,
 * AssemblyAI's entity names in brackets, so a transcript reads the same whichever provider made it:
 *
 * | kind | label | found by |
 * |---|---|---|
 * | names | `[PERSON_NAME]` | compromise's person tagger (a lexicon of first names, honorifics, context; works on recogniser text without capitals), and the phrases `my name is X`, `this is X speaking`, `Mr/Mrs/Ms/Dr X` |
 * | emails | `[EMAIL_ADDRESS]` | written (`a.b@c.com`) and spoken (`a dot b at c dot com`) |
 * | card numbers | `[CREDIT_CARD_NUMBER]` | 13–19 digits passing the Luhn check |
 * | account numbers | `[ACCOUNT_NUMBER]` | 4+ digits right after `account`, `acct`, `IBAN`, `routing`, `sort code`, `member`, `policy`, `customer` (optionally `number/no/id … is`); any other run of 16+ digits; IBANs |
 * | phone numbers | `[PHONE_NUMBER]` | any other run of 7–15 digits |
 *
 * Digits count written (`555-010-2345`, `+1 (555) 010 2345`) or spoken as a recogniser writes them
 * (`five five five oh one …`), mixed, separated by spaces, `-`, `.`, `(`, `)`, `+`. Not redacted: ISO
 * dates (`2026-12-13`), amounts after a currency sign, numbers under 7 digits without an account cue.
 * Redacting twice changes nothing.
 */

export type PiiKind = "person_name" | "email_address" | "credit_card_number" | "account_number" | "phone_number";

export const PII_LABELS: Readonly<Record<PiiKind, string>> = {
  person_name: "[PERSON_NAME]",
  email_address: "[EMAIL_ADDRESS]",
  credit_card_number: "[CREDIT_CARD_NUMBER]",
  account_number: "[ACCOUNT_NUMBER]",
  phone_number: "[PHONE_NUMBER]",
};

/** A stretch of `text` to replace: `[start, end)` in UTF-16 code units. */
export interface PiiSpan {
  start: number;
  end: number;
  kind: PiiKind;
}

const LABEL = /\[(?:PERSON_NAME|EMAIL_ADDRESS|CREDIT_CARD_NUMBER|ACCOUNT_NUMBER|PHONE_NUMBER)\]/g;
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
const SPOKEN_EMAIL = /\b[a-z0-9]+(?: (?:dot|underscore|dash|hyphen) [a-z0-9]+)* at [a-z0-9]+(?: dot [a-z]{2,})+\b/gi;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;

const DIGIT_WORDS: Readonly<Record<string, string>> = {
  zero: "0", oh: "0", o: "0", one: "1", two: "2", three: "3", four: "4", five: "5", six: "6", seven: "7", eight: "8", nine: "9",
};
/** Between two digit tokens of one number: spaces and the usual separators, nothing else. */
const DIGIT_GAP = /^[ \t\n().+-]{0,4}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const CURRENCY_BEFORE = /[$€£¥]\s?$/;
const ACCOUNT_CUE =
  /\b(?:account|acct|a\/c|iban|routing|sort code|member(?:ship)?|policy|customer)(?:\s+(?:number|no\.?|num|id|#))?(?:\s+(?:is|was|it's|its))?[\s:#,-]*$/i;

const NAME_CUE = /\b(?:my name is|my name's|the name is|the name's|name on the account is|you're speaking with|you are speaking with)\s+/gi;
const HONORIFIC = /\b(?:mr|mrs|ms|dr|mister|missus)\.?\s+(?=[a-z])/gi;
const SPEAKING = /\bthis is ([a-z][\w'-]*)(?: ([a-z][\w'-]*))? speaking\b/gi;
/** Words that end a name after a cue ("my name is john and …"). */
const NOT_A_NAME = new Set(
  (
    "a about again an and are as at back because but by call calling can could did do does for from had has have he her here him his " +
    "how i i'm i've if im in is it it's just later like my no not now of ok okay on or please regarding she should so soon sorry " +
    "speaking thanks thank that the their them there they this to today tomorrow tonight yesterday morning afternoon evening " +
    "monday tuesday wednesday thursday friday saturday sunday um uh was we well what when who will with would yes yeah you your"
  ).split(" "),
);

const luhn = (digits: string): boolean => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
};

const classifyDigits = (digits: string, accountCue: boolean): PiiKind | undefined => {
  const n = digits.length;
  if (n >= 13 && n <= 19 && luhn(digits)) return "credit_card_number";
  if (accountCue && n >= 4) return "account_number";
  if (n >= 7 && n <= 15) return "phone_number";
  if (n >= 16) return "account_number";
  return undefined;
};

const spansOf = (text: string, pattern: RegExp, kind: PiiKind): PiiSpan[] =>
  [...text.matchAll(pattern)].map((m) => ({ start: m.index, end: m.index + m[0].length, kind }));

/** Runs of digits, written or spoken, that make one number. */
const digitSpans = (text: string): PiiSpan[] => {
  const spans: PiiSpan[] = [];
  const tokens = [...text.matchAll(/[A-Za-z]+|\d+/g)].map((m) => {
    const raw = m[0];
    const digits = /^\d+$/.test(raw) ? raw : DIGIT_WORDS[raw.toLowerCase()];
    return { start: m.index, end: m.index + raw.length, digits };
  });
  let run: typeof tokens = [];
  const flush = () => {
    if (run.length === 0) return;
    const digits = run.map((token) => token.digits).join("");
    let start = run[0]!.start;
    const end = run.at(-1)!.end;
    run = [];
    if (ISO_DATE.test(text.slice(start, end))) return;
    const before = text.slice(Math.max(0, start - 48), start);
    if (CURRENCY_BEFORE.test(before)) return;
    const kind = classifyDigits(digits, ACCOUNT_CUE.test(before));
    if (!kind) return;
    while (start > 0 && (text[start - 1] === "+" || text[start - 1] === "(")) start -= 1;
    spans.push({ start, end, kind });
  };
  for (const token of tokens) {
    if (token.digits === undefined) {
      flush();
      continue;
    }
    const previous = run.at(-1);
    if (previous && !DIGIT_GAP.test(text.slice(previous.end, token.start))) flush();
    run.push(token);
  }
  flush();
  return spans;
};

/** The words a name cue introduces: up to three, stopping at a word that cannot be part of a name. */
const namedAfter = (text: string, from: number): PiiSpan | undefined => {
  const words = /[A-Za-z][\w'-]*/y;
  let end = from;
  let count = 0;
  let at = from;
  while (count < 3) {
    words.lastIndex = at;
    const m = words.exec(text);
    if (!m || NOT_A_NAME.has(m[0].toLowerCase()) || DIGIT_WORDS[m[0].toLowerCase()] !== undefined) break;
    end = m.index + m[0].length;
    count += 1;
    const gap = /[ \t]+/y;
    gap.lastIndex = end;
    if (!gap.exec(text)) break;
    at = gap.lastIndex;
  }
  return count > 0 ? { start: from, end, kind: "person_name" } : undefined;
};

/** Names: compromise's person tagger, then the cue phrases it may miss for names it does not know. */
const nameSpans = (text: string): PiiSpan[] => {
  const spans: PiiSpan[] = [];
  const doc = nlp(text);
  doc.compute("offset");
  for (const terms of doc.people().docs as { offset?: { start: number; length: number } }[][]) {
    const first = terms[0]?.offset;
    const last = terms.at(-1)?.offset;
    if (first && last) spans.push({ start: first.start, end: last.start + last.length, kind: "person_name" });
  }
  for (const cue of [NAME_CUE, HONORIFIC]) {
    for (const m of text.matchAll(cue)) {
      const named = namedAfter(text, m.index + m[0].length);
      if (named) spans.push(cue === HONORIFIC ? { ...named, start: m.index } : named);
    }
  }
  for (const m of text.matchAll(SPEAKING)) {
    const first = m.index + "this is ".length;
    const named = namedAfter(text, first);
    if (named) spans.push(named);
  }
  return spans;
};

/** Keeps the earliest-listed span where two overlap; the result is sorted and disjoint. */
const disjoint = (spans: PiiSpan[], taken: PiiSpan[] = []): PiiSpan[] => {
  const kept = [...taken];
  for (const span of spans) {
    if (span.end <= span.start) continue;
    if (kept.some((other) => span.start < other.end && other.start < span.end)) continue;
    kept.push(span);
  }
  return kept.sort((a, b) => a.start - b.start);
};

/** Every stretch of `text` to redact, sorted and disjoint. Labels already in the text are left alone. */
export function findPii(text: string): PiiSpan[] {
  if (text.trim() === "") return [];
  // Labels first, as spans that are kept but not replaced: nothing may be found inside or across one.
  const labels = spansOf(text, LABEL, "person_name");
  const found = disjoint(
    [
      ...spansOf(text, EMAIL, "email_address"),
      ...spansOf(text, SPOKEN_EMAIL, "email_address"),
      ...spansOf(text, IBAN, "account_number"),
      ...digitSpans(text),
    ],
    labels,
  );
  const withNames = disjoint(nameSpans(text), found);
  return withNames.filter((span) => !labels.includes(span));
}

/** `text` with each span replaced by its kind's label. */
export function applyRedactions(text: string, spans: readonly PiiSpan[]): string {
  let out = "";
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.start) + PII_LABELS[span.kind];
    at = span.end;
  }
  return out + text.slice(at);
}

/** `text` with every name, phone number, email address, card and account number replaced by its label. */
export function redactPii(text: string): string {
  const spans = findPii(text);
  return spans.length === 0 ? text : applyRedactions(text, spans);
}
