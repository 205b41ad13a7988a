import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { decodeEvent, encodeEvent } from "@callflow/contracts";
import { EMBEDDED_S3_CREDENTIALS } from "@callflow/storage";
import { describe, expect, startFakeAssemblyAi, test, testInfraUrls, waitFor } from "@callflow/testkit";
import { start, transcriptionConfigFromEnv } from "../src/index.ts";
import { seedChunk, toneFile } from "./support/harness.ts";
import { synthesizeSpeech } from "./support/speech.ts";
import { wordErrorRate } from "@callflow/testkit";

const SCRIPT = "Thank you for calling. Your order will arrive on Monday morning.";

describe("the transcription service on JetStream", () => {
  test("transcribes a chunk locally for one tenant and through AssemblyAI's webhook, forwarded as an event, for another", async ({ database, messaging, storage }) => {
    const { db } = database;
    const t = messaging.topology;
    const speech = await seedChunk(db, storage, { audioPath: await synthesizeSpeech(SCRIPT), startOffsetSeconds: 5 });
    const remote = await seedChunk(db, storage, { audioPath: await toneFile() });

    // Ingest's part, played here: the webhook is checked and recorded, then announced as an event.
    const js = jetstream(messaging.nats);
    const receiver = createServer(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const part of req) parts.push(part as Buffer);
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { transcript_id: string; status: string };
      if (req.headers["x-callflow-webhook-token"] !== "test-webhook-secret") return void res.writeHead(403).end();
      const callback = await db.providerCallback.create({
        data: { provider: "assemblyai", dedupKey: `${body.transcript_id}:${body.status}`, externalId: body.transcript_id, kind: `transcript.${body.status}`, payload: body },
      });
      await js.publish(t.subject("providerCallbackReceived"), encodeEvent("providerCallbackReceived", { callbackId: callback.id, provider: "assemblyai" }), { msgID: callback.id });
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const fake = await startFakeAssemblyAi({ apiKey: "test-assemblyai-key", processingMs: 200 });

    const config = transcriptionConfigFromEnv({
      CALLFLOW_DATABASE_URL: database.url,
      CALLFLOW_NATS_URL: testInfraUrls().nats,
      CALLFLOW_NAMESPACE: messaging.namespace,
      CALLFLOW_LOG_LEVEL: "warn",
      CALLFLOW_TRANSCRIPTION_OPS_PORT: "0",
      CALLFLOW_TRANSCRIPTION_TENANT_PROVIDERS: `${remote.tenantId}=assemblyai`,
      CALLFLOW_ASSEMBLYAI_BASE_URL: fake.baseUrl,
      CALLFLOW_ASSEMBLYAI_API_KEY: "test-assemblyai-key",
      CALLFLOW_ASSEMBLYAI_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/webhooks/assemblyai`,
      CALLFLOW_ASSEMBLYAI_WEBHOOK_SECRET: "test-webhook-secret",
      // The first poll would come after a minute: only the forwarded webhook can finish in time.
      CALLFLOW_ASSEMBLYAI_FIRST_POLL_MS: "60000",
      CALLFLOW_S3_ENDPOINT: storage.endpoint,
      CALLFLOW_S3_BUCKET: storage.bucket,
      CALLFLOW_S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      CALLFLOW_S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    });
    const service = await start(config);
    try {
      for (const chunk of [speech, remote]) {
        await js.publish(
          t.subject("chunkReady"),
          encodeEvent("chunkReady", { tenantId: chunk.tenantId, callId: chunk.callId, chunkId: chunk.chunkId, chunkIndex: 0, attempt: 0 }),
          { msgID: `ready-${chunk.chunkId}` },
        );
      }
      const done = await waitFor(
        "both chunks transcribed",
        async () => {
          const rows = await db.chunk.findMany({ where: { id: { in: [speech.chunkId, remote.chunkId] }, status: "transcribed" } });
          return rows.length === 2 ? rows : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 100 },
      );
      const local = done.find((row) => row.id === speech.chunkId)!;
      expect(local.provider).toBe("local");
      expect(wordErrorRate(SCRIPT, local.text!), local.text!).toBeLessThanOrEqual(0.2);
      expect((local.segments as { start: number }[])[0]!.start).toBeGreaterThanOrEqual(5);
      const viaWebhook = done.find((row) => row.id === remote.chunkId)!;
      expect(viaWebhook).toMatchObject({ provider: "assemblyai", text: "hello from the fake provider" });
      await waitFor("the callback marked processed", async () => (await db.providerCallback.findFirst({ where: { externalId: viaWebhook.providerJobId } }))?.processedAt);

      // Both results were announced on the stream, once each.
      const jsm = await jetstreamManager(messaging.nats);
      const announced = await waitFor("both chunkTranscribed events on the stream", async () => {
        const info = await jsm.streams.info(t.stream("calls"));
        const ids: string[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const message = await jsm.streams.getMessage(t.stream("calls"), { seq }).catch(() => null);
          if (message?.subject === t.subject("chunkTranscribed")) ids.push(decodeEvent("chunkTranscribed", message.data).chunkId);
        }
        return ids.length === 2 ? ids : undefined;
      });
      expect(announced.sort()).toEqual([speech.chunkId, remote.chunkId].sort());
    } finally {
      await service.stop();
      await fake.webhooksSettled();
      await fake.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
