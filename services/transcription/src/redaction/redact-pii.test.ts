import { describe, expect, it } from "vitest";
import { redactText, redactTranscription } from "./redact-pii.ts";

describe("redactText", () => {
  it("redacts email addresses, written and spoken", () => {
    expect(redactText("write to jane.doe+calls@example.co.uk today")).toBe("write to [EMAIL] today");
    expect(redactText("it is jane dot doe at example dot com thanks")).toBe("it is [EMAIL] thanks");
  });

  it("redacts a card number that passes the Luhn check and a phone number", () => {
    expect(redactText("card 4111 1111 1111 1111 expires")).toBe("card [CARD_NUMBER] expires");
    expect(redactText("call +1 (555) 010-2345 now")).toBe("call [PHONE_NUMBER] now");
  });

  it("redacts spoken digit runs of phone length and leaves short numbers alone", () => {
    expect(redactText("my number is five five five oh one two three four five thanks")).toBe("my number is [PHONE_NUMBER] thanks");
    expect(redactText("we need two or three people")).toBe("we need two or three people");
    expect(redactText("order 12345 shipped")).toBe("order 12345 shipped");
  });

  it("drops word timings from a redacted segment", () => {
    const redacted = redactTranscription({
      text: "call five five five one two three four",
      segments: [{ start: 0, end: 3, text: "call five five five one two three four", words: [{ word: "call", start: 0, end: 0.4 }] }],
    });
    expect(redacted.text).toBe("call [PHONE_NUMBER]");
    expect(redacted.segments[0]).toEqual({ start: 0, end: 3, text: "call [PHONE_NUMBER]" });
  });
});
