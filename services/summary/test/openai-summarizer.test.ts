import { describe, expect, startFakeOpenAiChat, test, type FakeOpenAiChat } from "@callflow/testkit";
import { afterEach, beforeEach } from "vitest";
import { createOpenAiSummarizer, summaryContent, type SummaryContent } from "../src/index.ts";
import { handlerUnderTest } from "./support/handler-under-test.ts";
import { CALL_DATE, TWO_PARTY } from "./support/scripts.ts";
import { seedTranscribedCall, transcribedEvent } from "./support/seed.ts";

const GOOD: SummaryContent = {
  summary: "The caller's internet was down; the agent reset the router.",
  keyPoints: ["Internet down since yesterday", "Router firmware error found"],
  actionItems: ["Agent resets the router", "Technician visit if the reset fails"],
  sentiment: "mixed",
  fields: { callerName: "Maria Gonzalez", intent: "technical support", followUpDate: "2024-02-27", callbackNumber: "555-201-7788" },
};

let fake: FakeOpenAiChat;
beforeEach(async () => {
  fake = await startFakeOpenAiChat({ apiKey: "sk-test", answer: () => GOOD });
});
afterEach(async () => {
  await fake.close();
});

const summarizer = (overrides: { maxAttempts?: number; timeoutMs?: number; maxTokensPerRequest?: number } = {}) =>
  createOpenAiSummarizer({
    baseURL: fake.baseURL,
    apiKey: "sk-test",
    model: "gpt-test",
    timeoutMs: overrides.timeoutMs ?? 5_000,
    maxTokensPerRequest: overrides.maxTokensPerRequest ?? 8_000,
    retry: { maxAttempts: overrides.maxAttempts ?? 4, baseBackoffMs: 50 },
  });

describe("the OpenAI-compatible summarizer", () => {
  test("asks for strict structured output and stores the validated answer under the model's name", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    expect(await handlerUnderTest(db, summarizer()).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.model).toBe("gpt-test");
    expect(request!.authorization).toBe("Bearer sk-test");
    expect(request!.responseFormat).toMatchObject({ type: "json_schema", json_schema: { name: "call_summary", strict: true } });
    expect(request!.messages.at(-1)).toEqual({ role: "user", content: TWO_PARTY });
    expect(request!.messages[0]!.content).toContain("2024-02-26");
    const summary = await db.summary.findFirstOrThrow({ where: { callId: call.callId } });
    expect(summary).toMatchObject({ model: "gpt-test", revision: 1, content: GOOD });
  });

  test("invalid JSON, then 429, then 500 with three attempts allowed fails the stage and the call as provider unavailable", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const handler = handlerUnderTest(db, summarizer({ maxAttempts: 3 }));
    fake.script({ kind: "content", content: "Sure! Here is your summary: {" }, { kind: "error", status: 429, retryAfterSeconds: 1 }, { kind: "error", status: 500 });

    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[2]!.receivedAt - fake.requests[1]!.receivedAt).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(await db.summary.count()).toBe(0);
    const stage = await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "summary" } });
    expect(stage).toMatchObject({ status: "failed", errorCode: "summary_provider_unavailable" });
    expect(stage.errorMessage).toContain("after 3 attempts");
    expect(await db.call.findUniqueOrThrow({ where: { id: call.callId } })).toMatchObject({ status: "failed", failedStage: "summary", errorCode: "summary_provider_unavailable" });
    expect(await handler.failedEvents()).toBe(1);
    expect(await handler.summarizedEvents(call.callId)).toHaveLength(0);
  });

  test("invalid JSON, then 429, then 500, then a good answer stores the summary exactly once", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const handler = handlerUnderTest(db, summarizer({ maxAttempts: 4 }));
    fake.script({ kind: "content", content: "not json" }, { kind: "error", status: 429, retryAfterSeconds: 1 }, { kind: "error", status: 500 });

    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    expect(fake.requests).toHaveLength(4);
    expect(fake.requests[2]!.receivedAt - fake.requests[1]!.receivedAt).toBeGreaterThanOrEqual(950);
    const summaries = await db.summary.findMany({ where: { callId: call.callId } });
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.content).toEqual(GOOD);
    expect(await handler.summarizedEvents(call.callId)).toHaveLength(1);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "succeeded", errorCode: null });
  });

  test("JSON of the wrong shape is never stored: the stage fails as invalid output once attempts run out", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const wrong = JSON.stringify({ ...GOOD, sentiment: "ecstatic", fields: { ...GOOD.fields, followUpDate: "next tuesday" } });
    fake.script({ kind: "content", content: wrong }, { kind: "content", content: wrong });
    expect(await handlerUnderTest(db, summarizer({ maxAttempts: 2 })).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    expect(fake.requests).toHaveLength(2);
    expect(await db.summary.count()).toBe(0);
    const stage = await db.stageRun.findFirstOrThrow({ where: { callId: call.callId, stage: "summary" } });
    expect(stage.errorCode).toBe("summary_invalid_output");
    expect(stage.errorMessage).toMatch(/sentiment/);
    expect(stage.errorMessage).toMatch(/followUpDate/);
  });

  test("a 400 is the request's fault: no retry, the stage fails as rejected", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    fake.script({ kind: "error", status: 400, message: "Invalid schema for response_format" });
    expect(await handlerUnderTest(db, summarizer()).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(fake.requests).toHaveLength(1);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "failed", errorCode: "summary_provider_rejected" });
  });

  test("a hanging provider is cut at the request timeout and asked again", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    fake.script({ kind: "hang" });
    const started = Date.now();
    expect(await handlerUnderTest(db, summarizer({ timeoutMs: 300 })).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(fake.requests).toHaveLength(2);
    expect(await db.summary.count({ where: { callId: call.callId } })).toBe(1);
  });

  test("a Retry-After longer than is worth waiting hands the message back to JetStream with that delay and frees the claim", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    fake.script({ kind: "error", status: 429, retryAfterSeconds: 120 });
    expect(await handlerUnderTest(db, summarizer()).deliver(transcribedEvent(call))).toMatchObject({ kind: "retry", afterMs: 120_000, code: "summary_provider_rate_limited" });
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "queued", attempt: 1 });
  });

  test("a long transcript is split into several requests whose results are combined into one valid summary", async ({ database }) => {
    const { db } = database;
    const segments = Array.from({ length: 60 }, (_, i) => ({
      start: i * 10,
      end: i * 10 + 9,
      text: `segment ${i} the caller explains another detail of the billing problem with the invoice they received last month and wants it fixed`,
    }));
    const text = segments.map((segment) => segment.text).join(" ");
    const call = await seedTranscribedCall(db, { text, segments, createdAt: CALL_DATE });
    // About 2,000 characters of transcript per request (≈ 500 tokens once the prompt overhead is taken).
    expect(await handlerUnderTest(db, summarizer({ maxTokensPerRequest: 1_100 })).deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    const parts = fake.requests.filter((request) => /part \d+ of \d+/.test(request.messages[0]!.content));
    const combines = fake.requests.filter((request) => request.messages[0]!.content.includes("Combine them"));
    expect(parts.length).toBeGreaterThan(1);
    expect(combines.length).toBeGreaterThanOrEqual(1);
    expect(fake.requests).toHaveLength(parts.length + combines.length);
    // Every segment went to exactly one part, in order, and no request exceeded the budget.
    expect(parts.map((request) => request.messages.at(-1)!.content).join("\n")).toBe(segments.map((segment) => segment.text).join("\n"));
    for (const request of fake.requests) expect(request.messages.reduce((sum, message) => sum + message.content.length, 0) / 4).toBeLessThanOrEqual(1_100);
    // The combine saw the partial results as JSON.
    expect(JSON.parse(combines.at(-1)!.messages.at(-1)!.content)).toEqual(expect.arrayContaining([GOOD]));
    const summary = await db.summary.findFirstOrThrow({ where: { callId: call.callId } });
    expect(summaryContent.parse(summary.content)).toEqual(GOOD);
  });
});
