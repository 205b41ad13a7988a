import { decodeEvent, Stage, topology } from "@callflow/contracts";
import { createDb, type Db } from "@callflow/db";
import { commitWithEvents } from "@callflow/messaging";
import { describe, expect, test } from "@callflow/testkit";
import { completeCallIfDone, failCallAtStage } from "../src/index.ts";

const t = topology("lifecycle");

async function seedTranscribedCall(db: Db, options: { webhook?: boolean } = {}) {
  const tenant = await db.tenant.create({ data: { name: "lifecycle", ...(options.webhook ? { webhookUrl: "http://127.0.0.1:9/hook", webhookSecret: "test-signing-key" } : {}) } });
  const call = await db.call.create({ data: { tenantId: tenant.id, source: "upload", status: "processing", uploadFinishedAt: new Date(), expectedChunkCount: 1 } });
  for (const [stage, status] of [["transcription", "succeeded"], ["merge", "queued"], ["summary", "queued"]] as const) {
    await db.stageRun.create({ data: { tenantId: tenant.id, callId: call.id, stage, status } });
  }
  return call;
}

const succeed = (db: Db, callId: string, stage: "merge" | "summary") =>
  db.stageRun.update({ where: { callId_stage_audioVersion: { callId, stage, audioVersion: 1 } }, data: { status: "succeeded", finishedAt: new Date() } });

const outbox = async <K extends "callCompleted" | "callFailed" | "notificationRequested">(db: Db, key: K) =>
  (await db.outboxEvent.findMany({ where: { subject: t.subject(key) } })).map((row) => decodeEvent(key, row.payload));

describe("a call's terminal transitions", () => {
  test("merge and summary finishing at the same moment complete the call exactly once, notifying once", async ({ database }) => {
    const db = createDb(database.url, { poolSize: 8 });
    try {
      const calls = await Promise.all(Array.from({ length: 10 }, () => seedTranscribedCall(db, { webhook: true })));
      const outcomes = await Promise.all(
        calls.flatMap((call) =>
          (["merge", "summary"] as const).map((stage) =>
            commitWithEvents(db, t, async (tx, emit) => {
              await tx.stageRun.update({ where: { callId_stage_audioVersion: { callId: call.id, stage, audioVersion: 1 } }, data: { status: "succeeded" } });
              return completeCallIfDone(tx, emit, { callId: call.id, now: new Date() });
            }),
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.outcome === "completed")).toHaveLength(10);
      expect(outcomes.filter((outcome) => outcome.outcome === "waiting")).toHaveLength(10);
      expect((await outbox(db, "callCompleted")).map((event) => event.callId).sort()).toEqual(calls.map((call) => call.id).sort());
      expect(await outbox(db, "notificationRequested")).toHaveLength(10);
      const rows = await db.call.findMany({ where: { id: { in: calls.map((call) => call.id) } } });
      expect(rows.every((row) => row.status === "completed" && row.completedAt !== null)).toBe(true);
      expect(await db.stageRun.count({ where: { stage: "completion", status: "succeeded" } })).toBe(10);
    } finally {
      await db.$disconnect();
    }
  });

  test("is never completed while a stage is missing, and a repeated completion changes nothing", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db);
    await succeed(db, call.id, "merge");
    expect(await commitWithEvents(db, t, (tx, emit) => completeCallIfDone(tx, emit, { callId: call.id, now: new Date() }))).toEqual({ outcome: "waiting", pending: ["summary"] });
    await succeed(db, call.id, "summary");
    expect(await commitWithEvents(db, t, (tx, emit) => completeCallIfDone(tx, emit, { callId: call.id, now: new Date() }))).toEqual({ outcome: "completed" });
    expect(await commitWithEvents(db, t, (tx, emit) => completeCallIfDone(tx, emit, { callId: call.id, now: new Date() }))).toEqual({ outcome: "not_applicable", reason: "call is completed" });
    expect(await outbox(db, "callCompleted")).toHaveLength(1);
  });

  test("a failed stage fails the call with its code once; a second failing stage is recorded but not re-announced", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { webhook: true });
    const fail = (stage: "merge" | "summary", errorCode: string) =>
      commitWithEvents(db, t, (tx, emit) => failCallAtStage(tx, emit, { callId: call.id, audioVersion: 1, stage, errorCode, errorMessage: `${stage} broke`, now: new Date() }));

    expect(await fail("merge", "merge_duration_mismatch")).toEqual({ outcome: "failed" });
    expect(await fail("summary", "summary_invalid_output")).toEqual({ outcome: "stage_failed", callStatus: "failed" });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({ status: "failed", failedStage: "merge", errorCode: "merge_duration_mismatch", errorMessage: "merge broke" });
    expect(await outbox(db, "callFailed")).toEqual([expect.objectContaining({ callId: call.id, stage: Stage.MERGE, errorCode: "merge_duration_mismatch" })]);
    expect(await db.notification.findMany({ where: { callId: call.id } })).toEqual([expect.objectContaining({ event: "call.failed", status: "pending" })]);
    const summary = await db.stageRun.findUniqueOrThrow({ where: { callId_stage_audioVersion: { callId: call.id, stage: "summary", audioVersion: 1 } } });
    expect(summary).toMatchObject({ status: "failed", errorCode: "summary_invalid_output" });
  });

  test("never overwrites a stage that succeeded, nor a call of another audio version", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db);
    await succeed(db, call.id, "merge");
    const late = await commitWithEvents(db, t, (tx, emit) =>
      failCallAtStage(tx, emit, { callId: call.id, audioVersion: 1, stage: "merge", errorCode: "stage_timeout", errorMessage: "reaper read it as overdue", now: new Date() }),
    );
    expect(late).toEqual({ outcome: "stale", reason: "merge already succeeded" });
    const stale = await commitWithEvents(db, t, (tx, emit) =>
      failCallAtStage(tx, emit, { callId: call.id, audioVersion: 2, stage: "summary", errorCode: "stage_timeout", errorMessage: "old", now: new Date() }),
    );
    expect(stale).toEqual({ outcome: "stale", reason: "call is at audio version 1" });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({ status: "processing", errorCode: null });
    expect(await outbox(db, "callFailed")).toHaveLength(0);
  });

  test("a processing call whose merge failed for good fails at merge once its summary lands, instead of waiting forever", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { webhook: true });
    // As a summary re-run leaves it: the call failed at summary, its merge failed after (not re-announced),
    // and the re-run reopened the call; now the new summary revision is stored.
    await db.stageRun.update({
      where: { callId_stage_audioVersion: { callId: call.id, stage: "merge", audioVersion: 1 } },
      data: { status: "failed", finishedAt: new Date(), errorCode: "call_not_active", errorMessage: "the merge was left running after its call stopped processing" },
    });
    await succeed(db, call.id, "summary");

    expect(await commitWithEvents(db, t, (tx, emit) => completeCallIfDone(tx, emit, { callId: call.id, now: new Date() }))).toEqual({ outcome: "failed", stage: "merge" });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({
      status: "failed",
      failedStage: "merge",
      errorCode: "call_not_active",
      errorMessage: "the merge was left running after its call stopped processing",
    });
    expect(await outbox(db, "callFailed")).toEqual([expect.objectContaining({ callId: call.id, stage: Stage.MERGE, errorCode: "call_not_active" })]);
    expect(await outbox(db, "callCompleted")).toHaveLength(0);
    expect(await db.notification.findMany({ where: { callId: call.id } })).toEqual([expect.objectContaining({ event: "call.failed" })]);
  });
});

describe("customer notices", () => {
  test("a call that fails again after a retry is notified again; the same failure announced twice is not", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { webhook: true });
    const failSummary = () =>
      commitWithEvents(db, t, (tx, emit) =>
        failCallAtStage(tx, emit, { callId: call.id, audioVersion: 1, stage: "summary", errorCode: "summary_invalid_output", errorMessage: "bad", now: new Date() }),
      );
    await db.stageRun.update({ where: { callId_stage_audioVersion: { callId: call.id, stage: "summary", audioVersion: 1 } }, data: { status: "running", attempt: 1 } });
    expect(await failSummary()).toEqual({ outcome: "failed" });
    expect(await failSummary()).toEqual({ outcome: "stage_failed", callStatus: "failed" });
    expect(await db.notification.count({ where: { callId: call.id } })).toBe(1);

    // What POST /v1/calls/{id}/summary/retry does: the call processing again, the stage a new attempt.
    await db.call.update({ where: { id: call.id }, data: { status: "processing", failedStage: null, errorCode: null, errorMessage: null } });
    await db.stageRun.update({ where: { callId_stage_audioVersion: { callId: call.id, stage: "summary", audioVersion: 1 } }, data: { status: "running", attempt: 2 } });
    expect(await failSummary()).toEqual({ outcome: "failed" });
    const notices = await db.notification.findMany({ where: { callId: call.id }, orderBy: { createdAt: "asc" } });
    expect(notices.map((notice) => notice.dedupKey)).toEqual([`call.failed:${call.id}:v1:summary@1`, `call.failed:${call.id}:v1:summary@2`]);
  });
});

describe("the customer webhook's phase", () => {
  test("a completed call's notice carries phase completed and the time its stages took; a failed one's, phase failed", async ({ database }) => {
    const { db } = database;
    const call = await seedTranscribedCall(db, { webhook: true });
    const finishAfter = async (stage: "merge" | "summary", ms: number) => {
      const where = { callId_stage_audioVersion: { callId: call.id, stage, audioVersion: 1 } };
      const { createdAt } = await db.stageRun.findUniqueOrThrow({ where });
      await db.stageRun.update({ where, data: { status: "succeeded", finishedAt: new Date(createdAt.getTime() + ms) } });
    };
    await finishAfter("summary", 7_000);
    await finishAfter("merge", 3_000);
    expect(await commitWithEvents(db, t, (tx, emit) => completeCallIfDone(tx, emit, { callId: call.id, now: new Date() }))).toEqual({ outcome: "completed" });
    const [completed] = await db.notification.findMany({ where: { callId: call.id } });
    expect(completed!.payload).toMatchObject({
      event: "call.completed",
      data: {
        status: "completed",
        phase: "completed",
        phases: expect.arrayContaining([
          expect.objectContaining({ phase: "summarizing", durationMs: 7_000 }),
          expect.objectContaining({ phase: "merging", durationMs: 3_000 }),
        ]),
      },
    });

    const failing = await seedTranscribedCall(db, { webhook: true });
    await commitWithEvents(db, t, (tx, emit) => failCallAtStage(tx, emit, { callId: failing.id, audioVersion: 1, stage: "merge", errorCode: "merge_duration_mismatch", errorMessage: "off", now: new Date() }));
    const [failed] = await db.notification.findMany({ where: { callId: failing.id } });
    expect(failed!.payload).toMatchObject({ event: "call.failed", data: { status: "failed", phase: "failed", error: { code: "merge_duration_mismatch" } } });
  });
});
