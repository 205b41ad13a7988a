import { describe, expect, test } from "@callflow/testkit";
import { createExtractiveSummarizer } from "../src/index.ts";
import type { Summarizer } from "../src/summarizers/port.ts";
import { handlerUnderTest } from "./support/handler-under-test.ts";
import { CALL_DATE, TWO_PARTY } from "./support/scripts.ts";
import { seedTranscribedCall, transcribedEvent } from "./support/seed.ts";

/** The extractive summarizer, counting its calls and made to wait until released. */
const gatedSummarizer = () => {
  const inner = createExtractiveSummarizer();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  let entered!: () => void;
  const started = new Promise<void>((resolve) => (entered = resolve));
  const summarizer: Summarizer = {
    model: inner.model,
    summarize: async (transcript, ctx) => {
      calls += 1;
      entered();
      await gate;
      return inner.summarize(transcript, ctx);
    },
  };
  return { summarizer, release, started, calls: () => calls };
};

describe("the summary stage", () => {
  test("callTranscribed delivered twice makes one Summary row and one callSummarized", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const handler = handlerUnderTest(db, createExtractiveSummarizer());

    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    const summaries = await db.summary.findMany({ where: { callId: call.callId } });
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ transcriptId: call.transcriptId, revision: 1, model: "extractive-v1" });
    expect(await handler.summarizedEvents(call.callId)).toEqual([expect.objectContaining({ summaryId: summaries[0]!.id })]);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "succeeded", attempt: 1 });
    // Not this service's decision: the completion consumer completes the call on callSummarized.
    expect((await db.call.findUniqueOrThrow({ where: { id: call.callId } })).status).toBe("processing");
  });

  test("a second copy arriving while the first is being summarized is told to come back, and still one summary results", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const gated = gatedSummarizer();
    const handler = handlerUnderTest(db, gated.summarizer);

    const first = handler.deliver(transcribedEvent(call));
    await gated.started;
    const second = await handler.deliver(transcribedEvent(call));
    expect(second).toMatchObject({ kind: "retry", code: "summary_in_progress" });
    gated.release();
    expect(await first).toEqual({ kind: "ack" });
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    expect(gated.calls()).toBe(1);
    expect(await db.summary.count({ where: { callId: call.callId } })).toBe(1);
    expect(await handler.summarizedEvents(call.callId)).toHaveLength(1);
  });

  test("a running stage whose worker stopped heartbeating is taken over, and the late worker's result is discarded", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const gated = gatedSummarizer();
    const slow = handlerUnderTest(db, gated.summarizer, { heartbeatMs: 60_000 });
    const first = slow.deliver(transcribedEvent(call));
    await gated.started;
    // The first worker's heartbeat is long past: it is presumed dead.
    await db.stageRun.updateMany({ where: { callId: call.callId, stage: "summary" }, data: { heartbeatAt: new Date(Date.now() - 3_600_000) } });

    const fast = handlerUnderTest(db, createExtractiveSummarizer(), { heartbeatMs: 1_000 });
    expect(await fast.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    gated.release();
    expect(await first).toEqual({ kind: "ack" });

    expect(await db.summary.count({ where: { callId: call.callId } })).toBe(1);
    expect(await fast.summarizedEvents(call.callId)).toHaveLength(1);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "succeeded", attempt: 2 });
  });

  test("a worker whose stage was taken over stops summarizing at its next heartbeat, and only the new owner's summary is stored", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    let entered!: () => void;
    const started = new Promise<void>((resolve) => (entered = resolve));
    let stoppedBecause: unknown;
    // Like the OpenAI SDK: the request ends when its signal aborts, and not before.
    const hanging: Summarizer = {
      model: "hanging",
      summarize: (_transcript, ctx) =>
        new Promise((_resolve, reject) => {
          entered();
          ctx.signal?.addEventListener("abort", () => reject((stoppedBecause = ctx.signal?.reason)), { once: true });
        }),
    };
    // Its first heartbeat comes two seconds in, long after the takeover below.
    const slow = handlerUnderTest(db, hanging, { heartbeatMs: 2_000 });
    const first = slow.deliver(transcribedEvent(call));
    await started;
    await db.stageRun.updateMany({ where: { callId: call.callId, stage: "summary" }, data: { heartbeatAt: new Date(Date.now() - 3_600_000) } });
    const fast = handlerUnderTest(db, createExtractiveSummarizer(), { heartbeatMs: 1_000 });
    expect(await fast.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    expect(await first).toEqual({ kind: "ack" });
    expect(String(stoppedBecause)).toContain("taken over");
    expect(await db.summary.count({ where: { callId: call.callId } })).toBe(1);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "succeeded", attempt: 2 });
    expect(await fast.failedEvents()).toBe(0);
  });

  test("a re-run (the stage queued again, callTranscribed re-emitted) stores revision 2 beside revision 1", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    const handler = handlerUnderTest(db, createExtractiveSummarizer());
    await handler.deliver(transcribedEvent(call));
    await db.call.update({ where: { id: call.callId }, data: { status: "completed", completedAt: new Date() } });

    // What POST /v1/calls/{id}/summary/retry commits.
    await db.stageRun.updateMany({ where: { callId: call.callId, stage: "summary" }, data: { status: "queued", finishedAt: null, heartbeatAt: null } });
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    // The original event redelivered late changes nothing more.
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });

    const summaries = await db.summary.findMany({ where: { callId: call.callId }, orderBy: { revision: "asc" } });
    expect(summaries.map((summary) => summary.revision)).toEqual([1, 2]);
    expect(summaries[1]!.content).toEqual(summaries[0]!.content);
    expect((await handler.summarizedEvents(call.callId)).map((event) => event.summaryId)).toEqual(summaries.map((summary) => summary.id));
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "succeeded", attempt: 2 });
    expect((await db.call.findUniqueOrThrow({ where: { id: call.callId } })).status).toBe("completed");
  });

  test("a callTranscribed for an audio version the call has moved past is acknowledged without a summary", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: TWO_PARTY, createdAt: CALL_DATE });
    await db.call.update({ where: { id: call.callId }, data: { audioVersion: 2 } });
    const handler = handlerUnderTest(db, createExtractiveSummarizer());
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(await db.summary.count()).toBe(0);
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "queued", attempt: 0 });
  });

  test("an empty transcript is summarized as such without asking the summarizer", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { text: "", segments: [] });
    const gated = gatedSummarizer();
    gated.release();
    const handler = handlerUnderTest(db, gated.summarizer);
    expect(await handler.deliver(transcribedEvent(call))).toEqual({ kind: "ack" });
    expect(gated.calls()).toBe(0);
    const summary = await db.summary.findFirstOrThrow({ where: { callId: call.callId } });
    expect(summary.content).toMatchObject({ summary: "The call contains no recognized speech.", sentiment: "neutral" });
  });
});
