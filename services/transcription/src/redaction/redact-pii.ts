import type { Segment, Transcription } from "../speech-to-text/port.ts";

/**
 * PII redaction for the local path (AssemblyAI redacts on its side): email addresses, card numbers
 * (13–19 digits passing the Luhn check) and phone numbers, written as digits or, as a recogniser
 * writes them, as spoken digits ("five five five one two …").
 */

const DIGIT_WORDS: Record<string, string> = {
  zero: "0", oh: "0", o: "0", one: "1", two: "2", three: "3", four: "4", five: "5", six: "6", seven: "7", eight: "8", nine: "9",
};

const EMAIL = /\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b/g;
const SPOKEN_EMAIL = /\b[a-z0-9]+(?: (?:dot|underscore) [a-z0-9]+)* at [a-z0-9]+(?: dot [a-z]{2,})+\b/gi;
const DIGIT_RUN = /\+?\d[\d\s().-]{5,}\d/g;

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

const classifyDigits = (digits: string): "[CARD_NUMBER]" | "[PHONE_NUMBER]" | undefined => {
  if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) return "[CARD_NUMBER]";
  if (digits.length >= 7 && digits.length <= 15) return "[PHONE_NUMBER]";
  return undefined;
};

/** Replaces runs of seven or more spoken digits with what they are. */
const redactSpokenDigits = (text: string): string => {
  const words = text.split(/(\s+)/);
  const out: string[] = [];
  let run: string[] = [];
  let digits = "";
  const flush = () => {
    const label = digits.length >= 7 ? classifyDigits(digits) : undefined;
    if (label) out.push(label);
    else out.push(...run);
    run = [];
    digits = "";
  };
  for (const token of words) {
    const digit = DIGIT_WORDS[token.toLowerCase()];
    if (digit !== undefined) {
      run.push(token);
      digits += digit;
    } else if (/^\s+$/.test(token) && run.length > 0) {
      run.push(token);
    } else {
      const trailing = run.length > 0 && /^\s+$/.test(run.at(-1)!) ? run.pop()! : undefined;
      flush();
      if (trailing) out.push(trailing);
      out.push(token);
    }
  }
  flush();
  return out.join("");
};

export function redactText(text: string): string {
  let result = text.replace(EMAIL, "[EMAIL]").replace(SPOKEN_EMAIL, "[EMAIL]");
  result = result.replace(DIGIT_RUN, (match) => classifyDigits(match.replace(/\D/g, "")) ?? match);
  return redactSpokenDigits(result);
}

/** Segment texts are redacted and word timings of redacted spans dropped: a word list would leak them. */
export function redactTranscription(transcription: Transcription): Transcription {
  const segments: Segment[] = transcription.segments.map((segment) => {
    const text = redactText(segment.text);
    return text === segment.text ? segment : { start: segment.start, end: segment.end, text };
  });
  return { ...transcription, text: redactText(transcription.text), segments };
}
