import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, startFakeAssemblyAi, test, waitFor, type FakeAssemblyAi, type FakeAssemblyAiOptions } from "@callflow/testkit";
import { createPostgresChunkRepo } from "../src/chunks/postgres-chunk-repo.ts";
import { createCompleteFromWebhook } from "../src/complete-from-webhook.ts";
import { createJobSignals, type JobSignals } from "../src/jobs/job-signals.ts";
import { createAssemblyAiTranscriber, type AssemblyAiOptions } from "../src/speech-to-text/assemblyai/assemblyai-transcriber.ts";
import { createProviderPolicy, DEFAULT_POLICY } from "../src/speech-to-text/provider-policy.ts";
import type { AsyncSpeechToText } from "../src/speech-to-text/port.ts";
import { buildHandler, delivery, outboxEvents, seedChunk, testTopology, toneFile } from "./support/harness.ts";

const API_KEY = "test-assemblyai-key";
const WEBHOOK_HEADER = "x-callflow-webhook-token";
const WEBHOOK_TOKEN = "test-webhook-token";

/**
 * Stands in for ingest: receives AssemblyAI's webhook, checks its auth header, and hands the job id
 * to the transcription service's completeFromWebhook (in production through a recorded callback event).
 */
async function startWebhookReceiver(onJob: (jobId: string) => Promise<unknown>) {
  const results: unknown[] = [];
  const rejected: number[] = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    if (req.headers[WEBHOOK_HEADER] !== WEBHOOK_TOKEN) {
      rejected.push(Date.now());
      res.writeHead(401).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { transcript_id: string; status: string };
    results.push(await onJob(body.transcript_id));
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/assemblyai`,
    results,
    rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const transcriber = (fake: FakeAssemblyAi, webhookUrl: string | undefined, overrides: Partial<AssemblyAiOptions> = {}): AsyncSpeechToText =>
  createAssemblyAiTranscriber({
    baseUrl: fake.baseUrl,
    apiKey: API_KEY,
    webhookUrl,
    webhookAuthHeaderName: WEBHOOK_HEADER,
    webhookAuthHeaderValue: WEBHOOK_TOKEN,
    limits: { maxBytes: 2_000_000_000 },
    requestTimeoutMs: 2_000,
    jobDeadlineBaseMs: 10_000,
    jobDeadlinePerAudioSecondMs: 1_000,
    policy: createProviderPolicy({ ...DEFAULT_POLICY, provider: "assemblyai", baseDelayMs: 50, maxDelayMs: 200 }),
    ...overrides,
  });

interface Setup {
  fake: FakeAssemblyAi;
  stt: AsyncSpeechToText;
  webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  /** The webhook path's signals: the worker's own (same process) or another's (another replica). */
  webhookSignals: JobSignals;
}

async function withAssemblyAi(
  db: Parameters<typeof createPostgresChunkRepo>[0]["db"],
  options: { fake?: Partial<FakeAssemblyAiOptions>; workerSignals: JobSignals; webhookInOtherProcess?: boolean; stt?: Partial<AssemblyAiOptions> },
  run: (setup: Setup) => Promise<void>,
) {
  const fake = await startFakeAssemblyAi({ apiKey: API_KEY, ...options.fake });
  const webhookSignals = options.webhookInOtherProcess ? createJobSignals() : options.workerSignals;
  let complete: (jobId: string) => Promise<unknown> = async () => undefined;
  const webhook = await startWebhookReceiver((jobId) => complete(jobId));
  const stt = transcriber(fake, webhook.url, options.stt);
  complete = createCompleteFromWebhook({ chunks: createPostgresChunkRepo({ db, topology: testTopology }), stt, signals: webhookSignals });
  try {
    await run({ fake, stt, webhook, webhookSignals });
  } finally {
    await fake.webhooksSettled();
    await webhook.close();
    await fake.close();
  }
}

describe("the AssemblyAI adapter", () => {
  test("submits with the webhook URL and auth header, records the job id before waiting, and completes on the webhook", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals, fake: { processingMs: 300 } }, async ({ fake, stt, webhook }) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(), startOffsetSeconds: 60 });
      // The first poll would come only after 20 s: the webhook is what completes this one.
      const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 20_000, maxPollIntervalMs: 20_000 } });
      const handled = handler({ chunkId: seeded.chunkId }, delivery());

      const jobId = await waitFor("the job id on the chunk while the worker waits", async () => {
        const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
        return chunk.status === "running" ? chunk.providerJobId : undefined;
      });
      const started = Date.now();
      expect(await handled).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(Date.now() - started).toBeLessThan(5_000);

      const job = fake.jobs.get(jobId)!;
      expect(job.params).toMatchObject({ webhook_url: webhook.url, webhook_auth_header_name: WEBHOOK_HEADER, webhook_auth_header_value: WEBHOOK_TOKEN });
      expect(job.uploadedBytes).toBeGreaterThan(30_000);
      expect(job.polls).toBe(1);
      expect(webhook.results).toEqual(["woke_waiting_worker"]);
      expect(webhook.rejected).toHaveLength(0);
      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk).toMatchObject({ status: "transcribed", provider: "assemblyai", providerJobId: jobId, text: "hello from the fake provider" });
      expect((chunk.segments as { start: number; words: { start: number }[] }[])[0]).toMatchObject({ start: 60, words: [{ start: 60 }, { start: 60.3 }, {}, {}, {}] });
    });
  });

  test("completes by polling when the webhook never arrives", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals, fake: { webhookDeliveries: 0, processingMs: 100 } }, async ({ fake, stt }) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 200, maxPollIntervalMs: 400 } });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      const [job] = [...fake.jobs.values()];
      expect(job!.webhookDeliveries).toHaveLength(0);
      expect(job!.polls).toBeGreaterThanOrEqual(1);
      expect(await outboxEvents(database.db, "chunkTranscribed")).toHaveLength(1);
    });
  });

  test("has one effect when the webhook is delivered three times to another replica than the waiting worker", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(
      database.db,
      { workerSignals: signals, webhookInOtherProcess: true, fake: { webhookDeliveries: 3, processingMs: 100 } },
      async ({ fake, stt, webhook }) => {
        const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
        const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 1_500, maxPollIntervalMs: 1_500 } });
        expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: expect.stringContaining("settled elsewhere") });
        await fake.webhooksSettled();
        expect(webhook.results.sort()).toEqual(["already_settled", "already_settled", "transcribed"]);
        expect(await outboxEvents(database.db, "chunkTranscribed")).toHaveLength(1);
        expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({ status: "transcribed", attempt: 1 });
      },
    );
  });

  test("gives up the attempt at a deadline derived from the audio's duration and resumes the same job on redelivery", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(
      database.db,
      { workerSignals: signals, fake: { webhookDeliveries: 0, processingMs: 60_000 }, stt: { jobDeadlineBaseMs: 300, jobDeadlinePerAudioSecondMs: 200 } },
      async ({ fake, stt }) => {
        const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(2) });
        const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 100, maxPollIntervalMs: 200 } });
        const started = Date.now();
        const verdict = await handler({ chunkId: seeded.chunkId }, delivery());
        // 300 ms + 2 s × 200 ms: the attempt ends near 700 ms, not when the provider feels like it.
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(verdict).toMatchObject({ kind: "retry" });
        const waiting = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
        expect(waiting).toMatchObject({ status: "queued", errorCode: "provider_timeout" });
        expect(waiting.providerJobId).toBe([...fake.jobs.keys()][0]);

        fake.jobs.get(waiting.providerJobId!)!.status = "completed";
        expect(await handler({ chunkId: seeded.chunkId }, delivery(2))).toMatchObject({ kind: "ack", reason: "transcribed" });
        expect(fake.jobs.size).toBe(1);
      },
    );
  });

  test("honours a 429's Retry-After on submission, retries a 5xx on polling and cuts a poll that hangs", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals, fake: { webhookDeliveries: 0, processingMs: 50 }, stt: { requestTimeoutMs: 700 } }, async ({ fake, stt }) => {
      fake.script("submit", { kind: "error", status: 429, message: "Too many concurrent requests", retryAfterSeconds: 1 });
      fake.script("get", { kind: "error", status: 500, message: "Internal server error" }, { kind: "hang" });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 100, maxPollIntervalMs: 200 } });
      const started = Date.now();
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000 + 700);
      expect(fake.jobs.size).toBe(1);
      // The 500 and the hang were scripted answers; the third poll reached the job.
      expect([...fake.jobs.values()][0]!.polls).toBe(1);
    });
  });

  test("fails the chunk at once when submission is refused with a 400, keeping the provider's message", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals }, async ({ fake, stt }) => {
      fake.script("submit", { kind: "error", status: 400, message: "Invalid language_code: xx" });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, stt, { signals });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "the chunk failed: provider_rejected" });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({
        status: "failed",
        errorCode: "provider_rejected",
        errorMessage: "assemblyai answered 400: Invalid language_code: xx",
      });
      expect(await outboxEvents(database.db, "chunkFailed")).toMatchObject([{ errorCode: "provider_rejected" }]);
    });
  });

  test("fails the chunk when the provider reports the job itself failed", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals, fake: { jobError: "Audio duration is too short." } }, async ({ stt }) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 20_000, maxPollIntervalMs: 20_000 } });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "the chunk failed: provider_job_failed" });
      expect((await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).errorMessage).toContain("Audio duration is too short.");
    });
  });

  test("passes PII redaction options through and stores the redacted text", async ({ database, storage }) => {
    const signals = createJobSignals();
    const words = ["my", "number", "is", "555", "010", "2345"].map((text, i) => ({ text, start: i * 300, end: i * 300 + 250, confidence: 0.9 }));
    await withAssemblyAi(
      database.db,
      { workerSignals: signals, fake: { words: () => words }, stt: { redactPii: { policies: ["phone_number", "email_address"], substitution: "entity_name" } } },
      async ({ fake, stt }) => {
        const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
        const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 20_000, maxPollIntervalMs: 20_000 } });
        expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
        expect([...fake.jobs.values()][0]!.params).toMatchObject({ redact_pii: true, redact_pii_policies: ["phone_number", "email_address"], redact_pii_sub: "entity_name" });
        expect((await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).text).toBe("my number is [PHONE_NUMBER]");
      },
    );
  });
});

describe("PII redaction of AssemblyAI's result (Callflow's redactor, by the call's setting)", () => {
  const SPOKEN = "hello my name is maria gonzalez my number is five five five oh one two three four five six and my email is maria at example dot com";
  const words = () => SPOKEN.split(" ").map((text, i) => ({ text, start: i * 300, end: i * 300 + 250, confidence: 0.9 }));
  const REDACTED = "hello my name is [PERSON_NAME] my number is [PHONE_NUMBER] and my email is [EMAIL_ADDRESS]";

  test("the worker's path stores the redacted text, without the word timings that would spell it out", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals, fake: { words } }, async ({ fake }) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(), redactPii: true });
      const { handler } = buildHandler(database.db, storage, transcriber(fake, undefined), { signals, polling: { firstPollAfterMs: 200, maxPollIntervalMs: 400 } });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      // Not asked of AssemblyAI (no policies configured): the redaction is Callflow's own.
      expect([...fake.jobs.values()][0]!.params.redact_pii).toBeUndefined();
      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk.text).toBe(REDACTED);
      expect((chunk.segments as { text: string }[]).map((segment) => segment.text).join(" ")).toBe(REDACTED);
      for (const pii of ["maria", "gonzalez", "five five five", "example"]) expect(JSON.stringify(chunk)).not.toContain(pii);
    });
  });

  test("the webhook's path stores the redacted text too", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(
      database.db,
      { workerSignals: signals, webhookInOtherProcess: true, fake: { words, processingMs: 100 } },
      async ({ fake, stt, webhook }) => {
        const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(), redactPii: true });
        const { handler } = buildHandler(database.db, storage, stt, { signals, polling: { firstPollAfterMs: 20_000, maxPollIntervalMs: 20_000 } });
        expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: expect.stringContaining("settled elsewhere") });
        await fake.webhooksSettled();
        expect(webhook.results).toEqual(["transcribed"]);
        expect((await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).text).toBe(REDACTED);
      },
    );
  });

  test("a call that does not redact stores AssemblyAI's text and words untouched", async ({ database, storage }) => {
    const signals = createJobSignals();
    await withAssemblyAi(database.db, { workerSignals: signals, fake: { words } }, async ({ fake }) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(), redactPii: false });
      const { handler } = buildHandler(database.db, storage, transcriber(fake, undefined), { signals, polling: { firstPollAfterMs: 200, maxPollIntervalMs: 400 } });
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk.text).toBe(SPOKEN);
      const stored = (chunk.segments as { words: { word: string }[] }[]).flatMap((segment) => segment.words.map((word) => word.word));
      expect(stored.join(" ")).toBe(SPOKEN);
    });
  });
});
