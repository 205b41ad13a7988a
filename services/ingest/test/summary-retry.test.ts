import { jetstream } from "@nats-io/jetstream";
import { encodeEvent } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { freePort, spawnService, stopService, testInfraUrls, waitFor, waitReady } from "@callflow/testkit";
import { describe, expect, test } from "./support/ingest-fixture.ts";

const TRANSCRIPT = "Hi, my name is Ana Lima. Please call me back at 555-330-1212 about my invoice. I will send the receipt today.";

/** A call as the pipeline leaves it once transcribed and merged; the summary stage as `status` says. */
const seedTranscribedCall = async (db: Db, tenantId: string, input: { callStatus: "processing" | "completed" | "failed"; summaryStage: "queued" | "succeeded" | "failed" }) => {
  const failedAtSummary = input.callStatus === "failed";
  const call = await db.call.create({
    data: {
      tenantId,
      source: "upload",
      status: input.callStatus,
      uploadFinishedAt: new Date(),
      expectedChunkCount: 1,
      ...(failedAtSummary ? { failedStage: "summary", errorCode: "summary_provider_unavailable", errorMessage: "the provider answered 503" } : {}),
      ...(input.callStatus === "completed" ? { completedAt: new Date() } : {}),
    },
  });
  const transcript = await db.transcript.create({ data: { tenantId, callId: call.id, audioVersion: 1, text: TRANSCRIPT, segments: [] } });
  await db.stageRun.createMany({
    data: [
      { tenantId, callId: call.id, stage: "transcription", status: "succeeded", attempt: 1 },
      { tenantId, callId: call.id, stage: "merge", status: "succeeded", attempt: 1 },
      {
        tenantId,
        callId: call.id,
        stage: "summary",
        status: input.summaryStage,
        attempt: input.summaryStage === "queued" ? 0 : 1,
        ...(input.summaryStage === "failed" ? { errorCode: "summary_provider_unavailable", errorMessage: "the provider answered 503" } : {}),
      },
    ],
  });
  return { callId: call.id, transcriptId: transcript.id };
};

describe("POST /v1/calls/{id}/summary/retry", () => {
  test("re-runs a completed call's summary as revision 2, and the call stays completed", async ({ ingest, database, messaging }) => {
    // The summary worker as its own process, as it runs in production, so the re-run is seen through
    // to its new revision: ingest does not depend on the summary service, only on its events.
    const opsPort = await freePort();
    const summary = spawnService("summary", {
      CALLFLOW_DATABASE_URL: database.url,
      CALLFLOW_NATS_URL: testInfraUrls().nats,
      CALLFLOW_NAMESPACE: messaging.namespace,
      CALLFLOW_LOG_LEVEL: "silent",
      CALLFLOW_SUMMARY_OPS_PORT: String(opsPort),
    });
    try {
      await waitReady(summary, `http://127.0.0.1:${opsPort}/readyz`);
      const { db } = ingest;
      const { tenantId } = ingest.tenant;
      const call = await seedTranscribedCall(db, tenantId, { callStatus: "processing", summaryStage: "queued" });
      await jetstream(messaging.nats).publish(
        ingest.topology.subject("callTranscribed"),
        encodeEvent("callTranscribed", { tenantId, callId: call.callId, transcriptId: call.transcriptId, partial: false, audioVersion: 1 }),
        { msgID: "first-transcribed" },
      );
      await waitFor("revision 1", () => db.summary.findFirst({ where: { callId: call.callId, revision: 1 } }));
      // What the completion consumer does on callSummarized.
      await db.call.update({ where: { id: call.callId }, data: { status: "completed", completedAt: new Date() } });

      const response = await ingest.api(`/v1/calls/${call.callId}/summary/retry`, { method: "POST" });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ id: call.callId, status: "completed", audioVersion: 1, stages: ["summary"] });

      const second = await waitFor("revision 2", () => db.summary.findFirst({ where: { callId: call.callId, revision: 2 } }));
      expect(second).toMatchObject({ transcriptId: call.transcriptId, model: "extractive-v1" });
      expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "succeeded", attempt: 2 });
      expect((await db.call.findUniqueOrThrow({ where: { id: call.callId } })).status).toBe("completed");
      await waitFor("two callSummarized published", async () => (await ingest.events("callSummarized")).length === 2);
      expect((await ingest.events("callSummarized")).map((event) => event.summaryId).sort()).toEqual(
        (await db.summary.findMany({ where: { callId: call.callId } })).map((row) => row.id).sort(),
      );
      const audit = await db.auditEntry.findFirstOrThrow({ where: { entityId: call.callId, action: "call.summary_retry" } });
      expect(audit).toMatchObject({ actor: `api-key:${ingest.tenant.keyId}`, tenantId });
      expect(audit.before).toMatchObject({ status: "completed", summaryStage: "succeeded", summaryAttempt: 1 });
    } finally {
      await stopService(summary);
    }
  });

  test("puts a call that failed at summary back to processing with the stage queued and callTranscribed re-emitted", async ({ ingest }) => {
    const { db } = ingest;
    const call = await seedTranscribedCall(db, ingest.tenant.tenantId, { callStatus: "failed", summaryStage: "failed" });

    const response = await ingest.api(`/v1/calls/${call.callId}/summary/retry`, { method: "POST" });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: "processing", stages: ["summary"] });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.callId } })).toMatchObject({ status: "processing", failedStage: null, errorCode: null, errorMessage: null });
    expect(await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } })).toMatchObject({ status: "queued", attempt: 1, errorCode: null, finishedAt: null });
    await waitFor("callTranscribed published", async () => (await ingest.events("callTranscribed")).length === 1);
    expect(await ingest.events("callTranscribed")).toEqual([expect.objectContaining({ callId: call.callId, transcriptId: call.transcriptId, audioVersion: 1 })]);

    // Queued already: a second re-run would only race the first.
    const again = await ingest.api(`/v1/calls/${call.callId}/summary/retry`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "summary_in_progress" } });
  });

  test("answers 404 for another tenant's call and 409 for a call with no transcript yet", async ({ ingest }) => {
    const { db } = ingest;
    const theirs = await seedTranscribedCall(db, ingest.otherTenant.tenantId, { callStatus: "completed", summaryStage: "succeeded" });
    const foreign = await ingest.api(`/v1/calls/${theirs.callId}/summary/retry`, { method: "POST" });
    expect(foreign.status).toBe(404);
    expect(await db.stageRun.findFirst({ where: { callId: theirs.callId, stage: "summary" } })).toMatchObject({ status: "succeeded" });

    const untranscribed = await db.call.create({ data: { tenantId: ingest.tenant.tenantId, source: "upload", status: "processing" } });
    const early = await ingest.api(`/v1/calls/${untranscribed.id}/summary/retry`, { method: "POST" });
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: { code: "transcript_not_ready" } });
    expect(await ingest.events("callTranscribed")).toEqual([]);
  });
});
