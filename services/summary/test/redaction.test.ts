import { describe, expect, startFakeOpenAiChat, test } from "@callflow/testkit";
import { createExtractiveSummarizer, createOpenAiSummarizer, type SummaryContent } from "../src/index.ts";
import { handlerUnderTest } from "./support/handler-under-test.ts";
import { CALL_DATE, RECOGNIZER_SEGMENTS, RECOGNIZER_TEXT, TWO_PARTY } from "./support/scripts.ts";
import { seedTranscribedCall, transcribedEvent } from "./support/seed.ts";

/** What must not be in a redacted summary of these scripts, in any of its fields. */
const PII = ["Maria", "Gonzalez", "Dana", "john", "smith", "555", "7788", "5553124499", "maria@example.com"];

const storedContent = async (db: Parameters<typeof handlerUnderTest>[0], callId: string) =>
  (await db.summary.findFirstOrThrow({ where: { callId } })).content as SummaryContent;

describe("PII redaction of the stored summary: the extractive summarizer", () => {
  test("a call that redacts stores a summary with no name or number, its PII fields reduced to their labels", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE, redactPii: true });
    expect(await handlerUnderTest(db, createExtractiveSummarizer()).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    const content = await storedContent(db, call.callId);
    expect(content.fields).toMatchObject({ callerName: "[PERSON_NAME]", callbackNumber: "[PHONE_NUMBER]", followUpDate: "2024-02-27" });
    const stored = JSON.stringify(content);
    for (const pii of PII) expect(stored).not.toContain(pii);
  });

  test("recogniser text (spoken digits, no capitals) is redacted too", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: RECOGNIZER_TEXT, segments: RECOGNIZER_SEGMENTS, createdAt: CALL_DATE, redactPii: true });
    expect(await handlerUnderTest(db, createExtractiveSummarizer()).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    const stored = JSON.stringify(await storedContent(db, call.callId));
    for (const pii of PII) expect(stored).not.toContain(pii);
    expect(stored).not.toContain("five five five");
  });

  test("a call that does not redact stores the summarizer's output untouched", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE, redactPii: false });
    const summarizer = createExtractiveSummarizer();
    expect(await handlerUnderTest(db, summarizer).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    const expected = await summarizer.summarize(
      { text: TWO_PARTY, segments: [{ start: 0, end: 5, text: TWO_PARTY }], referenceDate: CALL_DATE },
      { signal: new AbortController().signal, heartbeat: () => undefined },
    );
    const content = await storedContent(db, call.callId);
    expect(content).toEqual(expected);
    expect(content.fields.callerName).toBe("Maria Gonzalez");
  });
});

describe("PII redaction of the stored summary: the OpenAI-compatible summarizer", () => {
  const ANSWER: SummaryContent = {
    summary: "Maria Gonzalez called because her internet was down; Dana reset the router.",
    keyPoints: ["Caller Maria Gonzalez (maria@example.com) reports outages every evening"],
    actionItems: ["Call Maria back at 555-201-7788 if the reset fails"],
    sentiment: "mixed",
    fields: { callerName: "Maria Gonzalez", intent: "technical support", followUpDate: "2024-02-27", callbackNumber: "555-201-7788" },
  };

  const withFake = async (run: (summarizer: ReturnType<typeof createOpenAiSummarizer>) => Promise<void>) => {
    const fake = await startFakeOpenAiChat({ apiKey: "sk-test", answer: () => ANSWER });
    try {
      await run(
        createOpenAiSummarizer({ baseURL: fake.baseURL, apiKey: "sk-test", model: "gpt-test", timeoutMs: 5_000, maxTokensPerRequest: 8_000, retry: { maxAttempts: 2, baseBackoffMs: 50 } }),
      );
    } finally {
      await fake.close();
    }
  };

  test("a call that redacts stores the model's answer with names, numbers and emails replaced", async ({ database }) => {
    const { db } = database;
    await withFake(async (summarizer) => {
      const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE, redactPii: true });
      expect(await handlerUnderTest(db, summarizer).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
      expect(await storedContent(db, call.callId)).toEqual({
        summary: "[PERSON_NAME] called because her internet was down; [PERSON_NAME] reset the router.",
        keyPoints: ["Caller [PERSON_NAME] ([EMAIL_ADDRESS]) reports outages every evening"],
        actionItems: ["Call [PERSON_NAME] back at [PHONE_NUMBER] if the reset fails"],
        sentiment: "mixed",
        fields: { callerName: "[PERSON_NAME]", intent: "technical support", followUpDate: "2024-02-27", callbackNumber: "[PHONE_NUMBER]" },
      });
    });
  });

  test("a call that does not redact stores the model's answer untouched", async ({ database }) => {
    const { db } = database;
    await withFake(async (summarizer) => {
      const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE, redactPii: false });
      expect(await handlerUnderTest(db, summarizer).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
      expect(await storedContent(db, call.callId)).toEqual(ANSWER);
    });
  });
});
