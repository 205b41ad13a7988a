import { jetstreamManager } from "@nats-io/jetstream";
import { decodeEvent, type EventInit, type EventKey } from "@callflow/contracts";
import { describe, expect, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { start } from "../src/index.ts";
import { seededRandom, shuffle } from "./support/deliveries.ts";
import { ledgerEventPublisher } from "./support/ledger-events.ts";
import { chunkText, finishUpload, markFailed, markTranscribed, seedRecorderCalls, type SeededCall } from "./support/seed.ts";

type Step = { call: SeededCall; kind: "chunk"; index: number } | { call: SeededCall; kind: "finish" };

describe("the aggregator on JetStream", () => {
  test("publishes exactly one callTranscribed per call for 50 calls × 10 chunks arriving in random order with duplicates", async ({ database, messaging }) => {
    const { db } = database;
    const t = messaging.topology;
    const aggregator = await start(
      {
        databaseUrl: database.url,
        databasePoolSize: 8,
        natsUrl: testInfraUrls().nats,
        namespace: messaging.namespace,
        logLevel: "warn",
        opsPort: 0,
        concurrency: 8,
        ackWaitMs: 10_000,
        maxDeliver: 10,
      },
      { handleSignals: false },
    );
    try {
      const normal = await seedRecorderCalls(db, { calls: 48, chunks: 10 });
      const [failing] = await seedRecorderCalls(db, { calls: 1, chunks: 10, failurePolicy: "fail" });
      const [partial] = await seedRecorderCalls(db, { calls: 1, chunks: 10, failurePolicy: "partial" });
      const calls = [...normal, failing!, partial!];
      const failedChunk = (call: SeededCall) => (call === failing || call === partial ? 6 : -1);

      const publishEvent = ledgerEventPublisher(messaging.nats, t);
      let published = 0;
      const publish = async <K extends EventKey>(key: K, init: EventInit<K>) => {
        await publishEvent(key, init, `copy-${published++}`);
      };
      const seed = Date.now();
      const random = seededRandom(seed);
      const steps: Step[] = calls.flatMap((call) => [
        ...call.chunkIds.flatMap((_, index) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ call, kind: "chunk" as const, index }))),
        ...Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ call, kind: "finish" as const })),
      ]);
      const applied = new Set<string>();
      for (const step of shuffle(steps, random)) {
        const { call } = step;
        if (step.kind === "finish") {
          if (!applied.has(`${call.callId}:finish`)) await finishUpload(db, call);
          applied.add(`${call.callId}:finish`);
          await publish("callUploadFinished", { tenantId: call.tenantId, callId: call.callId, chunkCount: 10 });
          continue;
        }
        const chunkId = call.chunkIds[step.index]!;
        const fails = step.index === failedChunk(call);
        if (!applied.has(chunkId)) {
          if (fails) await markFailed(db, chunkId, "provider_rejected", "Audio file could not be decoded");
          else await markTranscribed(db, chunkId);
          applied.add(chunkId);
        }
        if (fails) await publish("chunkFailed", { tenantId: call.tenantId, callId: call.callId, chunkId, chunkIndex: step.index, attempt: 1, errorCode: "provider_rejected" });
        else await publish("chunkTranscribed", { tenantId: call.tenantId, callId: call.callId, chunkId, chunkIndex: step.index, attempt: 1 });
      }

      await waitFor("every call settled and its event published", async () => {
        const settled = await db.stageRun.count({ where: { stage: "transcription", status: { in: ["succeeded", "failed"] } } });
        const unpublished = await db.outboxEvent.count({ where: { publishedAt: null } });
        const consumer = await (await jetstreamManager(messaging.nats)).consumers.info(t.consumer("aggregator").stream, t.consumer("aggregator").durable);
        return settled === 50 && unpublished === 0 && consumer.num_pending === 0 && consumer.num_ack_pending === 0;
      }, { timeoutMs: 60_000, intervalMs: 100 });

      const jsm = await jetstreamManager(messaging.nats);
      const transcribedPerCall = new Map<string, number>();
      const failedCalls: string[] = [];
      const stream = t.stream("calls");
      const info = await jsm.streams.info(stream);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        if (!message) continue;
        if (message.subject === t.subject("callTranscribed")) {
          const event = decodeEvent("callTranscribed", message.data);
          transcribedPerCall.set(event.callId, (transcribedPerCall.get(event.callId) ?? 0) + 1);
        }
        if (message.subject === t.subject("callFailed")) failedCalls.push(decodeEvent("callFailed", message.data).callId);
      }
      expect(transcribedPerCall.size, `seed ${seed}`).toBe(49);
      expect([...transcribedPerCall.values()].every((count) => count === 1), `seed ${seed}`).toBe(true);
      expect(transcribedPerCall.has(failing!.callId)).toBe(false);
      expect(failedCalls).toEqual([failing!.callId]);

      for (const call of normal) {
        const transcript = await db.transcript.findFirstOrThrow({ where: { callId: call.callId } });
        expect(transcript.text).toBe(call.chunkIds.map((_, index) => chunkText(call.callId, index)).join(" "));
      }
      expect(await db.call.findUniqueOrThrow({ where: { id: failing!.callId } })).toMatchObject({
        status: "failed",
        failedStage: "transcription",
        errorCode: "chunk_failed",
        errorMessage: "chunk 6 failed (provider_rejected): Audio file could not be decoded",
      });
      expect(await db.call.findUniqueOrThrow({ where: { id: partial!.callId } })).toMatchObject({ status: "processing", partial: true, missingChunkIndexes: [6] });
      const fanIn = await aggregator.context.metrics.registry.getSingleMetric("callflow_aggregator_fan_in_seconds")!.get();
      expect((fanIn.values as Array<{ metricName?: string; value: number }>).find((v) => v.metricName === "callflow_aggregator_fan_in_seconds_count")?.value).toBe(49);
    } finally {
      await aggregator.stop();
    }
  });
});
