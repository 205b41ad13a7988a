import { describe, expect, startFakeOpenAi, test, type FakeOpenAi } from "@callflow/testkit";
import { createOpenAiTranscriber } from "../src/speech-to-text/openai/openai-transcriber.ts";
import { createProviderPolicy, DEFAULT_POLICY, type ProviderPolicyOptions } from "../src/speech-to-text/provider-policy.ts";
import { buildHandler, delivery, outboxEvents, seedChunk, toneFile } from "./support/harness.ts";

const transcriber = (fake: FakeOpenAi, policy: Partial<ProviderPolicyOptions> = {}, timeoutBaseMs = 5_000) =>
  createOpenAiTranscriber({
    baseURL: fake.baseURL,
    apiKey: "test-openai-key",
    model: "whisper-1",
    limits: { maxBytes: 25 * 1024 * 1024 },
    timeoutBaseMs,
    timeoutPerAudioSecondMs: 0,
    policy: createProviderPolicy({ ...DEFAULT_POLICY, provider: "openai", baseDelayMs: 50, maxDelayMs: 200, ...policy }),
  });

const withFake = async (run: (fake: FakeOpenAi) => Promise<void>) => {
  const fake = await startFakeOpenAi({
    apiKey: "test-openai-key",
    transcript: () => ({ segments: [{ start: 0.2, end: 0.9, text: "good morning" }, { start: 1.0, end: 1.8, text: "how can I help" }] }),
  });
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
};

describe("the OpenAI-compatible adapter through the real SDK", () => {
  test("stores the text with segments offset by the chunk's start, and announces it", async ({ database, storage }) => {
    await withFake(async (fake) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(2), startOffsetSeconds: 30 });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });

      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk).toMatchObject({ status: "transcribed", text: "good morning how can I help", attempt: 1, provider: "openai", errorCode: null });
      expect(chunk.segments).toEqual([
        { start: 30.2, end: 30.9, text: "good morning" },
        { start: 31, end: 31.8, text: "how can I help" },
      ]);
      expect(await outboxEvents(database.db, "chunkTranscribed")).toMatchObject([{ chunkId: seeded.chunkId, callId: seeded.callId, attempt: 1 }]);
      expect(fake.requests).toMatchObject([{ model: "whisper-1", responseFormat: "verbose_json", timestampGranularities: ["segment"], authorization: "Bearer test-openai-key" }]);
      expect(fake.requests[0]!.fileBytes).toBeGreaterThan(30_000);
    });
  });

  test("waits out a 429's Retry-After before trying again", async ({ database, storage }) => {
    await withFake(async (fake) => {
      fake.script({ kind: "error", status: 429, message: "Rate limit reached for requests", retryAfterSeconds: 1 });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(fake.requests).toHaveLength(2);
      expect(fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt).toBeGreaterThanOrEqual(1_000);
    });
  });

  test("hands a Retry-After too long to wait in process back to the runtime, the error kept on the chunk", async ({ database, storage }) => {
    await withFake(async (fake) => {
      fake.script({ kind: "error", status: 429, message: "You exceeded your current quota", retryAfterSeconds: 120 });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      const verdict = await handler({ chunkId: seeded.chunkId }, delivery());
      expect(verdict).toMatchObject({ kind: "retry", afterMs: 120_000 });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({
        status: "queued",
        errorCode: "provider_rate_limited",
        errorMessage: expect.stringContaining("You exceeded your current quota"),
      });
      expect(fake.requests).toHaveLength(1);
      // The redelivery claims it again and succeeds; the recorded error is cleared.
      expect(await handler({ chunkId: seeded.chunkId }, delivery(2))).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({ status: "transcribed", attempt: 2, errorCode: null });
    });
  });

  test("retries 5xx answers with backoff and then succeeds", async ({ database, storage }) => {
    await withFake(async (fake) => {
      fake.script({ kind: "error", status: 500, message: "The server had an error" }, { kind: "error", status: 503, message: "overloaded" });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(fake.requests).toHaveLength(3);
    });
  });

  test("cuts a request that hangs at its deadline and tries again", async ({ database, storage }) => {
    await withFake(async (fake) => {
      fake.script({ kind: "hang" });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, transcriber(fake, {}, 800));
      const started = Date.now();
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(fake.requests).toHaveLength(2);
    });
  });

  test("fails the chunk at once on a permanent 400, with the provider's message, and announces it", async ({ database, storage }) => {
    await withFake(async (fake) => {
      fake.script({ kind: "error", status: 400, message: "Invalid file format. Supported formats: ['flac', 'mp3', 'wav']" });
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "the chunk failed: provider_rejected" });
      expect(fake.requests).toHaveLength(1);
      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk).toMatchObject({ status: "failed", errorCode: "provider_rejected" });
      expect(chunk.errorMessage).toContain("Invalid file format");
      expect(await outboxEvents(database.db, "chunkFailed")).toMatchObject([{ chunkId: seeded.chunkId, errorCode: "provider_rejected" }]);
    });
  });

  test("fails the chunk on its last delivery when the provider keeps failing", async ({ database, storage }) => {
    await withFake(async (fake) => {
      fake.script(...Array.from({ length: 3 }, () => ({ kind: "error" as const, status: 502, message: "Bad gateway" })));
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile() });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery(1, 1))).toMatchObject({ kind: "ack" });
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } })).toMatchObject({
        status: "failed",
        errorCode: "provider_unavailable",
        errorMessage: expect.stringContaining("Bad gateway"),
      });
      expect(await outboxEvents(database.db, "chunkFailed")).toHaveLength(1);
    });
  });

  test("opens the circuit after consecutive failures and stops calling the provider", async () => {
    await withFake(async (fake) => {
      fake.script(...Array.from({ length: 4 }, () => ({ kind: "error" as const, status: 500 })));
      const stt = transcriber(fake, { maxAttempts: 1, breakerThreshold: 2, halfOpenAfterMs: 60_000 });
      const audio = { path: await toneFile(), sizeBytes: 32_044, durationSeconds: 1 };
      const ctx = { signal: new AbortController().signal, heartbeat: () => {} };
      if (stt.kind !== "sync") throw new Error("expected a sync adapter");
      await expect(stt.transcribe(audio, ctx)).rejects.toMatchObject({ code: "provider_unavailable" });
      await expect(stt.transcribe(audio, ctx)).rejects.toMatchObject({ code: "provider_unavailable" });
      await expect(stt.transcribe(audio, ctx)).rejects.toMatchObject({ code: "provider_circuit_open", retryable: true, retryAfterMs: 60_000 });
      expect(fake.requests).toHaveLength(2);
    });
  });
});

describe("PII redaction of the OpenAI-compatible path's result", () => {
  const SPOKEN = [
    { start: 0, end: 2, text: "Hello, my name is John Smith." },
    { start: 2, end: 5, text: "Call me back on 555-010-2345 or write to john.smith@example.com." },
    { start: 5, end: 8, text: "My card is 4111 1111 1111 1111 and my account number is 88442211." },
  ];
  const RAW_TEXT = SPOKEN.map((segment) => segment.text).join(" ");
  const withPiiFake = async (run: (fake: FakeOpenAi) => Promise<void>) => {
    const fake = await startFakeOpenAi({ apiKey: "test-openai-key", transcript: () => ({ segments: SPOKEN }) });
    try {
      await run(fake);
    } finally {
      await fake.close();
    }
  };

  test("a call that redacts PII stores the transcript with names, numbers and emails replaced", async ({ database, storage }) => {
    await withPiiFake(async (fake) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(2), redactPii: true });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });

      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk.text).toBe(
        "Hello, my name is [PERSON_NAME]. Call me back on [PHONE_NUMBER] or write to [EMAIL_ADDRESS]. My card is [CREDIT_CARD_NUMBER] and my account number is [ACCOUNT_NUMBER].",
      );
      expect((chunk.segments as { text: string }[]).map((segment) => segment.text)).toEqual([
        "Hello, my name is [PERSON_NAME].",
        "Call me back on [PHONE_NUMBER] or write to [EMAIL_ADDRESS].",
        "My card is [CREDIT_CARD_NUMBER] and my account number is [ACCOUNT_NUMBER].",
      ]);
      const stored = JSON.stringify(chunk);
      for (const pii of ["John", "Smith", "555", "2345", "example.com", "4111", "88442211"]) expect(stored).not.toContain(pii);
    });
  });

  test("a call that does not redact stores the provider's text untouched", async ({ database, storage }) => {
    await withPiiFake(async (fake) => {
      const seeded = await seedChunk(database.db, storage, { audioPath: await toneFile(2), redactPii: false });
      const { handler } = buildHandler(database.db, storage, transcriber(fake));
      expect(await handler({ chunkId: seeded.chunkId }, delivery())).toMatchObject({ kind: "ack", reason: "transcribed" });
      const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: seeded.chunkId } });
      expect(chunk.text).toBe(RAW_TEXT);
      expect(chunk.segments).toEqual(SPOKEN);
    });
  });
});
