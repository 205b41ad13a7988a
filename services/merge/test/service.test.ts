import { encodeEvent } from "@callflow/contracts";
import { EMBEDDED_S3_CREDENTIALS } from "@callflow/storage";
import { describe, expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { mergeConfigFromEnv, start } from "../src/index.ts";
import { outboxEvents, seedTranscribedCall, transcribedEvent } from "./support/harness.ts";

describe("the merge service on JetStream", () => {
  test("a callTranscribed published twice merges the call once, announces it once, and deletes the chunks after", async ({ database, messaging, storage }) => {
    const { db } = database;
    const t = messaging.topology;
    const call = await seedTranscribedCall(db, storage, { chunks: [{ seconds: 1, extension: "mp3" }, { seconds: 2, extension: "wav" }, { seconds: 1, extension: "ogg" }] });
    const config = mergeConfigFromEnv({
      CALLFLOW_DATABASE_URL: database.url,
      CALLFLOW_NATS_URL: testInfraUrls().nats,
      CALLFLOW_NAMESPACE: messaging.namespace,
      CALLFLOW_LOG_LEVEL: "warn",
      CALLFLOW_MERGE_OPS_PORT: "0",
      CALLFLOW_MERGE_DELETE_CHUNKS: "true",
      // A duplicate that meets the merge running looks again after three heartbeats.
      CALLFLOW_MERGE_HEARTBEAT_MS: "200",
      CALLFLOW_MERGE_OUTPUT_FORMAT: "opus",
      CALLFLOW_S3_ENDPOINT: storage.endpoint,
      CALLFLOW_S3_BUCKET: storage.bucket,
      CALLFLOW_S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      CALLFLOW_S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    });
    const service = await start(config);
    try {
      // Published as the aggregator's relay would (this package does not depend on the NATS client itself).
      const { js } = service.context;
      // Two distinct messages (different ids, so JetStream's dedupe does not help): a re-drive and the original.
      for (const msgID of ["transcribed-1", "transcribed-2"]) {
        await js.publish(t.subject("callTranscribed"), encodeEvent("callTranscribed", transcribedEvent(call)), { msgID: `${call.callId}-${msgID}` });
      }
      const recording = await waitFor("the merge stage succeeded", async () => {
        const stage = await db.stageRun.findFirst({ where: { callId: call.callId, stage: "merge", status: "succeeded" } });
        return stage && db.mergedRecording.findFirst({ where: { callId: call.callId } });
      });
      expect(recording).toMatchObject({ objectKey: `tenants/${call.tenantId}/calls/${call.callId}/v1/merged-1.ogg`, codec: "opus", partial: false });
      expect(recording.durationSeconds).toBeGreaterThan(3.9);
      expect(recording.durationSeconds).toBeLessThan(4.2);

      // callMerged went through the outbox and was published by the relay.
      await waitFor("callMerged published", async () => (await db.outboxEvent.findFirst({ where: { subject: t.subject("callMerged"), publishedAt: { not: null } } })) !== null);
      await waitFor("both deliveries settled", async () => {
        const info = await service.context.jsm.consumers.info(t.consumer("merge").stream, t.consumer("merge").durable);
        return info.num_ack_pending === 0 && info.num_pending === 0;
      });
      expect(await db.mergedRecording.count({ where: { callId: call.callId } })).toBe(1);
      expect(await outboxEvents(db, t, "callMerged")).toEqual([expect.objectContaining({ callId: call.callId, recordingId: recording.id })]);
      for (const chunk of call.chunks) expect(await storage.store.head(chunk.objectKey)).toBeNull();
      expect(await storage.store.head(recording.objectKey)).not.toBeNull();
    } finally {
      await service.stop();
    }
  });
});
