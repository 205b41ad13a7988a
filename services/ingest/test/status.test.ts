import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { encodeEvent } from "@callflow/contracts";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const uploadWav = async (ingest: IngestUnderTest, seconds = 2): Promise<string> => {
  const response = await ingest.api("/v1/calls", { method: "POST", body: await makeAudio("wav", seconds) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
};

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe("call status", () => {
  test("shows the stage timeline with attempts, times and errors, and the chunks", async ({ ingest }) => {
    const id = await uploadWav(ingest);
    const queued = (await (await ingest.api(`/v1/calls/${id}`)).json()) as Record<string, unknown>;
    expect(queued).toMatchObject({
      id,
      status: "processing",
      source: "upload",
      audioVersion: 1,
      error: null,
      stages: [{ stage: "transcription", audioVersion: 1, status: "queued", attempt: 0, startedAt: null, finishedAt: null, error: null }],
      chunks: { expected: 1, received: 1, byStatus: { queued: 1 }, failed: [] },
    });

    // A transcription worker takes it and fails for good.
    const startedAt = new Date();
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "failed", attempt: 3, startedAt, finishedAt: new Date(), errorCode: "provider_timeout", errorMessage: "no result within 90 s" } });
    await ingest.db.chunk.updateMany({ where: { callId: id }, data: { status: "failed", attempt: 3, errorCode: "provider_timeout", errorMessage: "no result within 90 s" } });
    await ingest.db.call.update({ where: { id }, data: { status: "failed", failedStage: "transcription", errorCode: "provider_timeout", errorMessage: "chunk 0: no result within 90 s" } });
    const failed = (await (await ingest.api(`/v1/calls/${id}`)).json()) as Record<string, unknown>;
    expect(failed).toMatchObject({
      status: "failed",
      failedStage: "transcription",
      error: { code: "provider_timeout", message: "chunk 0: no result within 90 s" },
      stages: [{ stage: "transcription", status: "failed", attempt: 3, startedAt: startedAt.toISOString(), error: { code: "provider_timeout" } }],
      chunks: { byStatus: { failed: 1 }, failed: [{ index: 0, error: { code: "provider_timeout" } }] },
    });
  });

  test("lists the tenant's calls newest first, filtered by status and creation time, page by page", async ({ ingest }) => {
    const base = Date.parse("2026-03-01T10:00:00Z");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const call = await ingest.db.call.create({
        data: { tenantId: ingest.tenant.tenantId, source: "upload", status: i % 2 === 0 ? "completed" : "processing", createdAt: new Date(base + i * 60_000) },
      });
      ids.push(call.id);
    }
    await ingest.db.call.create({ data: { tenantId: ingest.otherTenant.tenantId, source: "upload", status: "completed", createdAt: new Date(base) } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await ingest.api(`/v1/calls?limit=2${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const completed = (await (await ingest.api("/v1/calls?status=completed")).json()) as { items: { id: string }[] };
    expect(completed.items.map((item) => item.id)).toEqual([ids[4], ids[2], ids[0]]);
    const window = (await (await ingest.api(`/v1/calls?createdAfter=${new Date(base + 60_000).toISOString()}&createdBefore=${new Date(base + 3 * 60_000).toISOString()}`)).json()) as { items: { id: string }[] };
    expect(window.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    expect(await errorCode(await ingest.api("/v1/calls?cursor=bm90LWEtY3Vyc29y"))).toBe("invalid_cursor");
    expect(await errorCode(await ingest.api("/v1/calls?status=lost"))).toBe("invalid_request");
  });
});

describe("the call list's filters", () => {
  test("filter by phase (a processing call's phase comes from its stages), source and error code, page by page", async ({ ingest }) => {
    const { db } = ingest;
    const tenantId = ingest.tenant.tenantId;
    const base = Date.parse("2026-03-01T10:00:00Z");
    let minute = 0;
    const makeCall = async (data: { status: "processing" | "completed" | "failed"; source?: "upload" | "dial"; errorCode?: string }, stages: { stage: "transcription" | "summary" | "merge"; status: "queued" | "running" | "succeeded" }[] = []) => {
      const createdAt = new Date(base + minute++ * 60_000);
      const call = await db.call.create({ data: { tenantId, source: data.source ?? "upload", status: data.status, errorCode: data.errorCode ?? null, createdAt } });
      for (const stage of stages) {
        const running = stage.status !== "queued";
        await db.stageRun.create({
          data: { tenantId, callId: call.id, stage: stage.stage, status: stage.status, createdAt, startedAt: running ? createdAt : null, finishedAt: stage.status === "succeeded" ? createdAt : null },
        });
      }
      return call.id;
    };
    const uploaded = await makeCall({ status: "processing" }, [{ stage: "transcription", status: "queued" }]);
    const transcribing = [
      await makeCall({ status: "processing" }, [{ stage: "transcription", status: "running" }]),
      await makeCall({ status: "processing", source: "dial" }, [{ stage: "transcription", status: "running" }]),
      await makeCall({ status: "processing" }, [{ stage: "transcription", status: "running" }]),
    ];
    const summarizing = await makeCall({ status: "processing" }, [
      { stage: "transcription", status: "succeeded" },
      { stage: "summary", status: "running" },
      { stage: "merge", status: "running" },
    ]);
    const failed = await makeCall({ status: "failed", source: "dial", errorCode: "unsupported_audio" });
    await makeCall({ status: "failed", errorCode: "provider_timeout" });
    await makeCall({ status: "completed", source: "dial" });

    type Listed = { items: { id: string; phase: string }[]; nextCursor: string | null };
    const list = async (query: string) => (await (await ingest.api(`/v1/calls?${query}`)).json()) as Listed;
    const ids = async (query: string) => (await list(query)).items.map((item) => item.id);

    expect(await ids("phase=uploaded")).toEqual([uploaded]);
    expect(await ids("phase=summarizing")).toEqual([summarizing]);
    expect(await ids("phase=transcribing")).toEqual([...transcribing].reverse());
    const first = await list("phase=transcribing&limit=2");
    expect(first.items.map((item) => [item.id, item.phase])).toEqual([
      [transcribing[2], "transcribing"],
      [transcribing[1], "transcribing"],
    ]);
    expect(await ids(`phase=transcribing&limit=2&cursor=${first.nextCursor}`)).toEqual([transcribing[0]]);
    expect(await ids("phase=merging")).toEqual([]);
    expect(await ids("phase=failed&source=dial")).toEqual([failed]);
    expect(await ids("errorCode=unsupported_audio")).toEqual([failed]);
    expect(await ids("source=dial&phase=transcribing")).toEqual([transcribing[1]]);
    expect(await ids("status=completed&phase=failed")).toEqual([]);
    expect(await errorCode(await ingest.api("/v1/calls?phase=lost"))).toBe("invalid_request");
  });
});

describe("artifacts", () => {
  test("transcript: 202 with Retry-After while transcribing, the terminal code once failed, 200 when ready, 404 when unknown", async ({ ingest }) => {
    const id = await uploadWav(ingest, 3);
    const pending = await ingest.api(`/v1/calls/${id}/transcript`);
    expect(pending.status).toBe(202);
    expect(Number(pending.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await pending.json()).toMatchObject({ status: "pending", stage: "transcription", stageStatus: "queued", progress: { chunksDone: 0, chunksTotal: 1 } });

    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "failed", errorCode: "unsupported_audio", errorMessage: "the provider cannot decode it" } });
    await ingest.db.call.update({ where: { id }, data: { status: "failed", failedStage: "transcription", errorCode: "unsupported_audio", errorMessage: "the provider cannot decode it" } });
    const failed = await ingest.api(`/v1/calls/${id}/transcript`);
    expect(failed.status).toBe(422);
    expect(await failed.json()).toEqual({ error: { code: "unsupported_audio", message: "the provider cannot decode it", stage: "transcription" } });
    const summaryOfFailed = await ingest.api(`/v1/calls/${id}/summary`);
    expect(summaryOfFailed.status).toBe(422);

    const other = await uploadWav(ingest, 1);
    await ingest.db.transcript.create({ data: { tenantId: ingest.tenant.tenantId, callId: other, audioVersion: 1, text: "hello there", segments: [{ start: 0, end: 1, text: "hello there" }] } });
    await ingest.db.stageRun.updateMany({ where: { callId: other }, data: { status: "succeeded" } });
    const ready = await ingest.api(`/v1/calls/${other}/transcript`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ callId: other, audioVersion: 1, text: "hello there", partial: false });

    const summaryPending = await ingest.api(`/v1/calls/${other}/summary`);
    expect(summaryPending.status).toBe(202);
    await ingest.db.call.update({ where: { id: other }, data: { status: "completed" } });
    const neverSummary = await ingest.api(`/v1/calls/${other}/summary`);
    expect(neverSummary.status).toBe(404);
    expect(await errorCode(neverSummary)).toBe("summary_not_available");

    expect(await errorCode(await ingest.api(`/v1/calls/${randomUUID()}/transcript`))).toBe("call_not_found");
    expect((await ingest.api("/v1/calls/not-a-uuid/transcript")).status).toBe(404);
  });

  test("recording: streamed whole or by Range, or redirected to a presigned URL", async ({ ingest, storage }) => {
    const id = await uploadWav(ingest, 1);
    expect((await ingest.api(`/v1/calls/${id}/recording`)).status).toBe(202);

    const bytes = await makeAudio("flac", 2);
    const key = `tenants/${ingest.tenant.tenantId}/calls/${id}/v1/merged.flac`;
    await storage.store.putStream(key, Readable.from([bytes]), { contentType: "audio/flac" });
    await ingest.db.mergedRecording.create({
      data: { tenantId: ingest.tenant.tenantId, callId: id, audioVersion: 1, objectKey: key, sizeBytes: BigInt(bytes.length), codec: "flac", inputs: [], verifiedAt: new Date() },
    });

    const whole = await ingest.api(`/v1/calls/${id}/recording`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const part = await ingest.api(`/v1/calls/${id}/recording`, { headers: { range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const tail = await ingest.api(`/v1/calls/${id}/recording`, { headers: { range: "bytes=-50" } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 50))).toBe(true);
    expect((await ingest.api(`/v1/calls/${id}/recording`, { headers: { range: `bytes=${bytes.length}-` } })).status).toBe(416);

    const redirect = await ingest.api(`/v1/calls/${id}/recording?redirect=true`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const presigned = await fetch(redirect.headers.get("location")!);
    expect(Buffer.from(await presigned.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test("tenant B gets 404 for tenant A's call, transcript, summary and recording", async ({ ingest }) => {
    const id = await uploadWav(ingest, 1);
    await ingest.db.transcript.create({ data: { tenantId: ingest.tenant.tenantId, callId: id, audioVersion: 1, text: "private", segments: [] } });
    const asB = { key: ingest.otherTenant.key };
    for (const path of [`/v1/calls/${id}`, `/v1/calls/${id}/transcript`, `/v1/calls/${id}/summary`, `/v1/calls/${id}/recording`]) {
      const response = await ingest.api(path, asB);
      expect(response.status, path).toBe(404);
      expect(await errorCode(response), path).toBe("call_not_found");
    }
    expect(((await (await ingest.api("/v1/calls", asB)).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await ingest.api(`/v1/calls/${id}/transcript`)).status).toBe(200);
  });
});

describe("the service's own endpoints", () => {
  test("serves the OpenAPI document, health, readiness and metrics without a key", async ({ ingest }) => {
    const docs = await ingest.api("/docs/json", { key: null });
    expect(docs.status).toBe(200);
    const document = (await docs.json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/v1/calls", "/v1/calls/{id}", "/v1/calls/{id}/transcript", "/v1/calls/{id}/recording", "/v1/calls/{id}/chunks", "/v1/calls/{id}/finish"]),
    );
    expect(document.paths["/v1/calls"]!.post!.requestBody).toMatchObject({ content: { "application/octet-stream": { schema: { format: "binary" } } } });
    expect(Object.keys(document.paths["/v1/calls/{id}/transcript"]!.get!.responses)).toEqual(expect.arrayContaining(["200", "202", "404", "422"]));
    expect((await ingest.api("/docs", { key: null })).status).toBe(200);

    expect(await (await ingest.api("/healthz", { key: null })).json()).toEqual({ status: "ok" });
    expect(await (await ingest.api("/readyz", { key: null })).json()).toEqual({ status: "ready", checks: { postgres: true, nats: true, notifier: true } });
    await ingest.api("/v1/calls");
    const metrics = await (await ingest.api("/metrics", { key: null })).text();
    expect(metrics).toMatch(/callflow_http_request_duration_seconds_count\{[^}]*route="\/v1\/calls"[^}]*\} \d+/);
  });
});

describe("admin endpoints", () => {
  test("need the admin scope; they list the audit log and dead letters, and replay a dead letter", async ({ ingest }) => {
    const operator = await ingest.createTenant("operator", ["admin"]);
    expect((await ingest.api("/v1/admin/dead-letters")).status).toBe(403);
    expect(await errorCode(await ingest.api("/v1/admin/audit"))).toBe("insufficient_scope");

    const callId = randomUUID();
    const letter = await ingest.db.deadLetter.create({
      data: {
        stream: ingest.topology.stream("calls"),
        consumer: ingest.topology.consumer("transcription").durable,
        subject: ingest.topology.subject("chunkReady"),
        streamSequence: 7n,
        payload: new Uint8Array(encodeEvent("chunkReady", { tenantId: ingest.tenant.tenantId, callId, chunkId: randomUUID(), chunkIndex: 0, attempt: 5 })),
        deliveryCount: 5,
        reason: "max_deliveries",
        errorCode: "provider_timeout",
        errorMessage: "no result",
      },
    });
    await ingest.db.auditEntry.create({ data: { actor: "reaper", action: "chunk.fail", entityType: "chunk", entityId: callId, reason: "overdue" } });

    const asOperator = { key: operator.key };
    const letters = (await (await ingest.api("/v1/admin/dead-letters", asOperator)).json()) as { items: { id: string; error: { code: string } }[] };
    // The payload as people read it: the event decoded to JSON, and the bytes as they were.
    expect(letters.items).toMatchObject([
      {
        id: letter.id,
        error: { code: "provider_timeout" },
        event: "chunkReady",
        payload: { tenantId: ingest.tenant.tenantId, callId, chunkIndex: 0, attempt: 5 },
        payloadBase64: Buffer.from(letter.payload).toString("base64"),
      },
    ]);
    const audit = (await (await ingest.api(`/v1/admin/audit?entityId=${callId}`, asOperator)).json()) as { items: unknown[] };
    expect(audit.items).toMatchObject([{ actor: "reaper", action: "chunk.fail" }]);

    const replayed = await ingest.api(`/v1/admin/dead-letters/${letter.id}/replay`, { method: "POST", ...asOperator });
    expect(replayed.status).toBe(202);
    expect((await ingest.events("chunkReady")).map((event) => event.callId)).toEqual([callId]);
    expect((await ingest.db.deadLetter.findUniqueOrThrow({ where: { id: letter.id } })).replayCount).toBe(1);
    expect((await ingest.api(`/v1/admin/dead-letters/${randomUUID()}/replay`, { method: "POST", ...asOperator })).status).toBe(404);
  });

  test("a dead letter whose bytes are not its event is listed with a null payload and its bytes", async ({ ingest }) => {
    const operator = await ingest.createTenant("operator", ["admin"]);
    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    await ingest.db.deadLetter.create({
      data: {
        stream: ingest.topology.stream("calls"),
        consumer: ingest.topology.consumer("summary").durable,
        subject: ingest.topology.subject("callTranscribed"),
        streamSequence: 9n,
        payload: garbage,
        deliveryCount: 1,
        reason: "undecodable",
      },
    });
    const letters = (await (await ingest.api("/v1/admin/dead-letters", { key: operator.key })).json()) as { items: unknown[] };
    expect(letters.items).toMatchObject([{ event: "callTranscribed", payload: null, payloadBase64: Buffer.from(garbage).toString("base64"), headers: {} }]);
  });
});

describe("rate limit", () => {
  test.override({ ingestEnv: { CALLFLOW_INGEST_RATE_LIMIT_PER_MINUTE: "3" } });

  test("limits requests per API key, not per tenant or address", async ({ ingest }) => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await ingest.api("/v1/calls")).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await ingest.api("/v1/calls");
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await errorCode(limited)).toBe("rate_limited");
    const second = await ingest.createTenant("tenant-c");
    expect((await ingest.api("/v1/calls", { key: second.key })).status).toBe(200);
    expect((await ingest.api("/healthz", { key: null })).status).toBe(200);
  });
});
