import { describe, expect, it } from "vitest";
import { CALL_DATE, RECOGNIZER_SEGMENTS, RECOGNIZER_TEXT, TWO_PARTY } from "../../../test/support/scripts.ts";
import { summaryContent } from "../summary-content.ts";
import { summarizeExtractively } from "./extractive-summarizer.ts";

const punctuated = { text: TWO_PARTY, segments: [], referenceDate: CALL_DATE };
const recognizer = { text: RECOGNIZER_TEXT, segments: RECOGNIZER_SEGMENTS, referenceDate: CALL_DATE };

describe("the extractive summarizer", () => {
  it("gives the same output for the same two-party call, every time", () => {
    const first = summarizeExtractively(punctuated);
    const second = summarizeExtractively({ ...punctuated, segments: [] });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(summaryContent.safeParse(first).success).toBe(true);
    // Pinned: a change to the scoring or the word lists changes stored output, so it is a new model version.
    expect(first.summary).toBe(
      "Agent: Thank you for calling Northwind Internet, this is Dana, how can I help you today? I will reset the router from our side now. I will schedule a technician visit for next Tuesday if the reset does not fix it.",
    );
  });

  it("extracts the caller's name, callback number, follow-up date and intent from a punctuated call", () => {
    const content = summarizeExtractively(punctuated);
    expect(content.fields).toEqual({ callerName: "Maria Gonzalez", callbackNumber: "5552017788", followUpDate: "2024-02-27", intent: "technical support" });
    expect(content.actionItems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("please call me back"),
        expect.stringContaining("I will schedule a technician visit"),
        expect.stringContaining("I will send you a confirmation email"),
      ]),
    );
    expect(content.actionItems.some((item) => item.includes("outage map"))).toBe(true); // "Let me check"
    expect(content.summary.length).toBeGreaterThan(0);
    expect(content.keyPoints.length).toBeGreaterThan(0);
    expect(content.keyPoints.every((point) => TWO_PARTY.includes(point.replace(/\.$/, "")))).toBe(true);
  });

  it("reads a recognizer's lower-case unpunctuated transcript by its pause-based segments", () => {
    const content = summarizeExtractively(recognizer);
    expect(summaryContent.parse(content)).toEqual(content);
    expect(content.fields).toEqual({ callerName: "John Smith", callbackNumber: "5553124499", followUpDate: "2024-03-03", intent: "billing question" });
    // Each key point is one segment made a sentence, never a run-on of the whole call.
    for (const point of content.keyPoints) {
      expect(RECOGNIZER_SEGMENTS.map((segment) => segment.text)).toContain(point.replace(/\.$/, "").toLowerCase());
      expect(point).toMatch(/^[A-Z].*\.$/);
    }
    expect(content.actionItems).toEqual(
      expect.arrayContaining(["I will refund the second payment today.", "Sure we will call you on march third to confirm the refund."]),
    );
  });

  it("judges sentiment from the words used, negations included", () => {
    const of = (text: string) => summarizeExtractively({ text, segments: [], referenceDate: CALL_DATE }).sentiment;
    expect(of("The weather report was read. The call ended.")).toBe("neutral");
    expect(of("This is great. The agent was very helpful and I am happy.")).toBe("positive");
    expect(of("I am not happy. The service is terrible and the router is broken.")).toBe("negative");
    expect(of("The agent was helpful and great. But the router is still broken and I am frustrated.")).toBe("mixed");
  });

  it("returns null fields for a call that states none of them", () => {
    const content = summarizeExtractively({ text: "The weather today is sunny. Nothing else was discussed at all.", segments: [], referenceDate: CALL_DATE });
    expect(content.fields).toEqual({ callerName: null, callbackNumber: null, followUpDate: null, intent: null });
    expect(content.actionItems).toEqual([]);
  });
});
