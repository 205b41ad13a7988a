import { describe, expect, startFakeOpenAiChat, test, waitFor, type FakeOpenAiChat } from "@callflow/testkit";
import { afterEach, beforeEach } from "vitest";
import { createOpenAiSummarizer, type SummaryContent } from "../src/index.ts";
import { handlerUnderTest } from "./support/handler-under-test.ts";
import { CALL_DATE, TWO_PARTY } from "./support/scripts.ts";
import { seedTranscribedCall, transcribedEvent } from "./support/seed.ts";

const GOOD: SummaryContent = {
  summary: "The caller asked to move a delivery; the agent rebooked it.",
  keyPoints: ["Delivery moved"],
  actionItems: ["Agent confirms the new slot by email"],
  sentiment: "positive",
  fields: { callerName: "Maria Gonzalez", intent: "reschedule delivery", followUpDate: null, callbackNumber: null },
};

const HALF_OPEN_MS = 300;

let fake: FakeOpenAiChat;
afterEach(async () => {
  await fake.close();
});

const summarizer = (breaker: { concurrency?: number; breakerThreshold?: number; halfOpenAfterMs?: number } = {}) =>
  createOpenAiSummarizer({
    baseURL: fake.baseURL,
    apiKey: "sk-test",
    model: "gpt-test",
    timeoutMs: 5_000,
    maxTokensPerRequest: 8_000,
    retry: { maxAttempts: 4, baseBackoffMs: 20 },
    breaker: { concurrency: 4, breakerThreshold: 3, halfOpenAfterMs: HALF_OPEN_MS, ...breaker },
  });

describe("the summary provider's circuit breaker", () => {
  beforeEach(async () => {
    fake = await startFakeOpenAiChat({ apiKey: "sk-test", answer: () => GOOD });
  });

  test("three 5xx in a row open it: the summarization is handed back at the half-open delay and no further request reaches the provider", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    // A delay this test never reaches, so the breaker is certainly still open at the second delivery.
    const handler = handlerUnderTest(db, summarizer({ halfOpenAfterMs: 60_000 }));
    fake.script({ kind: "error", status: 500 }, { kind: "error", status: 502 }, { kind: "error", status: 503 });

    // The fourth attempt meets the open breaker instead of the provider.
    expect(await handler.deliver(transcribedEvent(call))).toMatchObject({ kind: "retry", afterMs: 60_000, code: "summary_provider_unavailable" });
    expect(fake.requests).toHaveLength(3);
    expect(await handler.deliver(transcribedEvent(call))).toMatchObject({ kind: "retry", afterMs: 60_000, code: "summary_provider_unavailable" });
    expect(fake.requests).toHaveLength(3);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "queued" });
    expect(await db.summary.count()).toBe(0);
  });

  test("after the half-open delay one trial request to a healthy provider closes it again", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const other = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const handler = handlerUnderTest(db, summarizer());
    fake.script({ kind: "error", status: 500 }, { kind: "error", status: 500 }, { kind: "error", status: 500 });
    expect(await handler.deliver(transcribedEvent(call))).toMatchObject({ kind: "retry", afterMs: HALF_OPEN_MS, code: "summary_provider_unavailable" });

    // Redeliveries fail fast until the delay has passed; then exactly one trial reaches the provider and succeeds.
    await waitFor("a redelivery that the breaker lets through", async () => (await handler.deliver(transcribedEvent(call))).kind === "ack", { timeoutMs: 5_000 });
    expect(fake.requests).toHaveLength(4);
    expect(await db.summary.findFirstOrThrow({ where: { callId: call.callId } })).toMatchObject({ content: GOOD });

    // Closed: the next summarization goes straight to the provider.
    expect(await handler.deliver(transcribedEvent(other))).toEqual({ kind: "ack" });
    expect(fake.requests).toHaveLength(5);
  });

  test("a 429 is the provider pacing us, not an outage: it does not count towards opening the breaker", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const handler = handlerUnderTest(db, summarizer({ breakerThreshold: 2 }));
    fake.script({ kind: "error", status: 429, retryAfterSeconds: 0 }, { kind: "error", status: 429, retryAfterSeconds: 0 }, { kind: "error", status: 500 });
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(fake.requests).toHaveLength(4);
    expect(await db.summary.count({ where: { callId: call.callId } })).toBe(1);
  });
});

describe("the summary provider's concurrency limit", () => {
  beforeEach(async () => {
    fake = await startFakeOpenAiChat({ apiKey: "sk-test", answer: () => GOOD, latencyMs: 150 });
  });

  test("eight summarizations at once never have more than the limit's two requests open at the provider", async () => {
    const limited = summarizer({ concurrency: 2 });
    const ctx = { heartbeat: () => undefined, signal: new AbortController().signal };
    const transcript = { text: TWO_PARTY, segments: [], referenceDate: CALL_DATE };
    const results = await Promise.all(Array.from({ length: 8 }, () => limited.summarize(transcript, ctx)));
    expect(results).toEqual(Array.from({ length: 8 }, () => GOOD));
    expect(fake.requests).toHaveLength(8);
    expect(fake.maxInFlight).toBe(2);
  });
});
