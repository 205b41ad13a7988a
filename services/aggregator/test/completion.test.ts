import { randomUUID } from "node:crypto";
import { describe, expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { start } from "../src/index.ts";
import { jetstreamManager, ledgerEventPublisher } from "./support/ledger-events.ts";

describe("completion on JetStream", () => {
  test("completes a call once merge and summary are both stored, whichever event comes first and however often", async ({ database, messaging }) => {
    const { db } = database;
    const aggregator = await start(
      { databaseUrl: database.url, databasePoolSize: 4, natsUrl: testInfraUrls().nats, namespace: messaging.namespace, logLevel: "warn", opsPort: 0, concurrency: 4, ackWaitMs: 10_000, maxDeliver: 5 },
      { handleSignals: false },
    );
    try {
      const tenant = await db.tenant.create({ data: { name: "completion" } });
      const call = await db.call.create({ data: { tenantId: tenant.id, source: "upload", status: "processing", uploadFinishedAt: new Date(), expectedChunkCount: 1 } });
      const stage = (name: "transcription" | "merge" | "summary", status: "queued" | "succeeded") =>
        db.stageRun.upsert({
          where: { callId_stage_audioVersion: { callId: call.id, stage: name, audioVersion: 1 } },
          create: { tenantId: tenant.id, callId: call.id, stage: name, status },
          update: { status },
        });
      await stage("transcription", "succeeded");
      await stage("merge", "succeeded");
      await stage("summary", "queued");
      const publish = ledgerEventPublisher(messaging.nats, messaging.topology);
      const jsm = await jetstreamManager(messaging.nats);
      const { stream, durable } = messaging.topology.consumer("completion");
      const allAcked = async (count: number) => {
        const info = await jsm.consumers.info(stream, durable);
        return info.ack_floor.stream_seq >= count && info.num_pending === 0 && info.num_ack_pending === 0;
      };

      // The merge announces itself twice while the summary is still running: nothing completes.
      await publish("callMerged", { tenantId: tenant.id, callId: call.id, recordingId: randomUUID() }, "merged-1");
      await publish("callMerged", { tenantId: tenant.id, callId: call.id, recordingId: randomUUID() }, "merged-2");
      await waitFor("both merge events handled", () => allAcked(2));
      expect(await db.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({ status: "processing" });

      await stage("summary", "succeeded");
      await publish("callSummarized", { tenantId: tenant.id, callId: call.id, summaryId: randomUUID() }, "summarized-1");
      await publish("callSummarized", { tenantId: tenant.id, callId: call.id, summaryId: randomUUID() }, "summarized-2");
      const completed = await waitFor("the call completed", async () => {
        const row = await db.call.findUniqueOrThrow({ where: { id: call.id } });
        return row.status === "completed" ? row : undefined;
      });
      expect(completed.completedAt).not.toBeNull();
      await waitFor("all four events handled", () => allAcked(4));
      expect(await db.outboxEvent.count({ where: { subject: messaging.topology.subject("callCompleted") } })).toBe(1);
      expect(await db.stageRun.findUniqueOrThrow({ where: { callId_stage_audioVersion: { callId: call.id, stage: "completion", audioVersion: 1 } } })).toMatchObject({ status: "succeeded" });
    } finally {
      await aggregator.stop();
    }
  });
});
