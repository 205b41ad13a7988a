import { decodeEvent, encodeEvent } from "@callflow/contracts";
import { describe, expect, startFakeOpenAiChat, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { start, summaryConfigFromEnv, type SummaryHandle } from "../src/index.ts";
import { CALL_DATE, RECOGNIZER_SEGMENTS, RECOGNIZER_TEXT } from "./support/scripts.ts";
import { seedTranscribedCall, transcribedEvent } from "./support/seed.ts";

const configFor = (database: { url: string }, namespace: string, env: Record<string, string> = {}) =>
  summaryConfigFromEnv({
    CALLFLOW_DATABASE_URL: database.url,
    CALLFLOW_NATS_URL: testInfraUrls().nats,
    CALLFLOW_NAMESPACE: namespace,
    CALLFLOW_LOG_LEVEL: "silent",
    CALLFLOW_SUMMARY_OPS_PORT: "0",
    CALLFLOW_SUMMARY_ACK_WAIT_MS: "5000",
    // A copy that finds the stage running comes back after three heartbeats: keep that short here.
    CALLFLOW_SUMMARY_HEARTBEAT_MS: "200",
    ...env,
  });

const summarizedOnStream = async (handle: SummaryHandle) => {
  const { jsm, topology } = handle.context;
  const stream = topology.stream("calls");
  const info = await jsm.streams.info(stream);
  const found = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (message?.subject === topology.subject("callSummarized")) found.push(decodeEvent("callSummarized", message.data));
  }
  return found;
};

describe("the summary worker on JetStream", () => {
  test("summarizes a transcript named by a callTranscribed published on NATS and publishes callSummarized", async ({ database, messaging }) => {
    const { db } = database;
    const handle = await start(configFor(database, messaging.namespace), { handleSignals: false });
    try {
      const call = await seedTranscribedCall(db, { text: RECOGNIZER_TEXT, segments: RECOGNIZER_SEGMENTS, createdAt: CALL_DATE });
      const { js, topology } = handle.context;
      await js.publish(topology.subject("callTranscribed"), encodeEvent("callTranscribed", transcribedEvent(call)), { msgID: "transcribed-1" });
      // A second copy with its own message id (a re-drive JetStream cannot drop): still one summary.
      await js.publish(topology.subject("callTranscribed"), encodeEvent("callTranscribed", transcribedEvent(call)), { msgID: "transcribed-2" });

      const published = await waitFor("callSummarized on the stream", async () => {
        const events = await summarizedOnStream(handle);
        return events.length > 0 ? events : undefined;
      });
      const summary = await db.summary.findFirstOrThrow({ where: { callId: call.callId } });
      expect(published).toEqual([expect.objectContaining({ tenantId: call.tenantId, callId: call.callId, summaryId: summary.id })]);
      expect(summary).toMatchObject({ model: "extractive-v1", revision: 1 });
      expect((summary.content as { fields: unknown }).fields).toMatchObject({ callerName: "John Smith", callbackNumber: "5553124499" });

      await waitFor("both copies acknowledged", async () => {
        const consumer = await handle.context.jsm.consumers.info(topology.consumer("summary").stream, topology.consumer("summary").durable);
        return consumer.num_pending === 0 && consumer.num_ack_pending === 0;
      });
      expect(await db.summary.count({ where: { callId: call.callId } })).toBe(1);
      expect(await summarizedOnStream(handle)).toHaveLength(1);
      expect(await fetch(`${handle.opsUrl}/readyz`).then((response) => response.status)).toBe(200);
    } finally {
      await handle.stop();
    }
  });

  test("with the openai provider configured, a dead-lettered callTranscribed fails the summary stage and the call", async ({ database, messaging }) => {
    const { db } = database;
    const fake = await startFakeOpenAiChat({ apiKey: "sk-test" });
    // A rate limit of an hour is not waited out in the handler: the message goes back to JetStream, and its one delivery allowed is used up.
    fake.script(...Array.from({ length: 10 }, () => ({ kind: "error" as const, status: 429, retryAfterSeconds: 3_600 })));
    const handle = await start(
      configFor(database, messaging.namespace, {
        CALLFLOW_SUMMARY_PROVIDER: "openai",
        CALLFLOW_SUMMARY_OPENAI_BASE_URL: fake.baseURL,
        CALLFLOW_SUMMARY_OPENAI_API_KEY: "sk-test",
        CALLFLOW_SUMMARY_MAX_DELIVER: "1",
      }),
      { handleSignals: false },
    );
    try {
      const call = await seedTranscribedCall(db, { text: RECOGNIZER_TEXT, segments: RECOGNIZER_SEGMENTS, createdAt: CALL_DATE });
      const { js, topology } = handle.context;
      await js.publish(topology.subject("callTranscribed"), encodeEvent("callTranscribed", transcribedEvent(call)), { msgID: "transcribed-1" });

      const stage = await waitFor("the summary stage failed", async () => {
        const run = await db.stageRun.findFirst({ where: { callId: call.callId, stage: "summary" } });
        return run?.status === "failed" ? run : undefined;
      });
      expect(stage.errorCode).toBe("summary_provider_rate_limited");
      expect(stage.errorMessage).toContain("dead-lettered");
      expect(await db.call.findUniqueOrThrow({ where: { id: call.callId } })).toMatchObject({ status: "failed", failedStage: "summary" });
      expect(await db.deadLetter.count()).toBe(1);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await handle.stop();
      await fake.close();
    }
  });
});
