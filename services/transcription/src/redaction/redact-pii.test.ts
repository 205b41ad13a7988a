import { describe, expect, it } from "vitest";
import { redactTranscription } from "./redact-pii.ts";

describe("redactTranscription", () => {
  it("redacts the text and each segment, dropping the word timings of a segment that changed", () => {
    const redacted = redactTranscription({
      text: "good morning call five five five one two three four",
      segments: [
        { start: 0, end: 1, text: "good morning", words: [{ word: "good", start: 0, end: 0.4 }] },
        { start: 1, end: 3, text: "call five five five one two three four", words: [{ word: "call", start: 1, end: 1.4 }] },
      ],
    });
    expect(redacted.text).toBe("good morning call [PHONE_NUMBER]");
    expect(redacted.segments).toEqual([
      { start: 0, end: 1, text: "good morning", words: [{ word: "good", start: 0, end: 0.4 }] },
      { start: 1, end: 3, text: "call [PHONE_NUMBER]" },
    ]);
  });

  it("finds a number the recogniser split over two segments: the label where it starts, the rest cut", () => {
    const redacted = redactTranscription({
      text: "my number is five five five oh one two three four thanks",
      segments: [
        { start: 0, end: 2, text: "my number is five five five" },
        { start: 2.5, end: 5, text: "oh one two three four thanks" },
      ],
    });
    expect(redacted.segments).toEqual([
      { start: 0, end: 2, text: "my number is [PHONE_NUMBER]" },
      { start: 2.5, end: 5, text: "thanks" },
    ]);
    expect(redacted.text).toBe("my number is [PHONE_NUMBER] thanks");
  });

  it("returns a transcription without PII unchanged", () => {
    const plain = { text: "good morning", segments: [{ start: 0, end: 1, text: "good morning" }] };
    expect(redactTranscription(plain)).toEqual(plain);
  });
});
