import { Readable } from "node:stream";
import { waitFor } from "@callflow/testkit";
import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

interface ServerSentEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream until it ends, collecting its events. */
const collectEvents = async (response: Response, events: ServerSentEvent[]) => {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
  }
};

const upload = async (ingest: IngestUnderTest, seconds: number) => {
  const response = await ingest.api("/v1/calls", { method: "POST", body: await makeAudio("wav", seconds) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
};

describe("progress events", () => {
  test.override({ ingestEnv: { CALLFLOW_INGEST_SSE_POLL_MS: "50" } });

  test("streams each stage transition as it is committed and ends when the call is terminal", async ({ ingest }) => {
    const id = await upload(ingest, 1);
    const response = await ingest.api(`/v1/calls/${id}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events: ServerSentEvent[] = [];
    const reading = collectEvents(response, events);

    const seen = (predicate: (event: ServerSentEvent) => boolean) => waitFor("a progress event", () => events.some(predicate));
    await seen((event) => event.event === "stage" && event.data.status === "queued");
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "running", attempt: 1, startedAt: new Date() } });
    await seen((event) => event.event === "stage" && event.data.status === "running");
    await ingest.db.chunk.updateMany({ where: { callId: id }, data: { status: "transcribed" } });
    await seen((event) => event.event === "chunks" && (event.data.byStatus as Record<string, number>).transcribed === 1);
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "succeeded", finishedAt: new Date() } });
    await ingest.db.stageRun.create({ data: { tenantId: ingest.tenant.tenantId, callId: id, stage: "summary", status: "queued" } });
    await seen((event) => event.event === "stage" && event.data.stage === "summary");
    await ingest.db.call.update({ where: { id }, data: { status: "completed", completedAt: new Date() } });
    await reading;

    const transcription = events.filter((event) => event.event === "stage" && event.data.stage === "transcription").map((event) => event.data.status);
    expect(transcription).toEqual(["queued", "running", "succeeded"]);
    expect(events.filter((event) => event.event === "call").map((event) => event.data.status)).toEqual(["processing", "completed"]);
    expect(events.at(-1)).toEqual({ event: "end", data: { status: "completed" } });
    expect((await ingest.api(`/v1/calls/${id}/events`, { key: ingest.otherTenant.key })).status).toBe(404);
  });
});

describe("progress events' phase", () => {
  test.override({ ingestEnv: { CALLFLOW_INGEST_SSE_POLL_MS: "50" } });

  test("every call event carries the phase, and each change of phase is its own event", async ({ ingest }) => {
    const id = await upload(ingest, 1);
    const response = await ingest.api(`/v1/calls/${id}/events`);
    const events: ServerSentEvent[] = [];
    const reading = collectEvents(response, events);
    const seen = (phase: string) => waitFor(`phase ${phase}`, () => events.some((event) => event.event === "phase" && event.data.phase === phase));

    await seen("uploaded");
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "running", attempt: 1, startedAt: new Date() } });
    await seen("transcribing");
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "succeeded", finishedAt: new Date() } });
    await ingest.db.stageRun.create({ data: { tenantId: ingest.tenant.tenantId, callId: id, stage: "summary", status: "queued" } });
    await seen("summarizing");
    await ingest.db.call.update({ where: { id }, data: { status: "completed", completedAt: new Date() } });
    await reading;

    expect(events.filter((event) => event.event === "phase").map((event) => event.data.phase)).toEqual(["uploaded", "transcribing", "summarizing", "completed"]);
    expect(events.filter((event) => event.event === "call").map((event) => event.data.phase)).toEqual(["uploaded", "completed"]);
    const last = events.filter((event) => event.event === "phase").at(-1)!.data as { phases: { phase: string; finishedAt: string | null }[] };
    expect(last.phases.map((phase) => phase.phase)).toEqual(["uploading", "uploaded", "transcribing", "summarizing"]);
    expect(last.phases.every((phase) => phase.finishedAt !== null)).toBe(true);
  });
});

describe("retry and trim", () => {
  test("retry re-queues a failed call's failed chunks and stage through the outbox, once", async ({ ingest }) => {
    const id = await upload(ingest, 1);
    expect((await ingest.api(`/v1/calls/${id}/retry`, { method: "POST" })).status).toBe(409);

    await ingest.db.chunk.updateMany({ where: { callId: id }, data: { status: "failed", attempt: 3, errorCode: "provider_timeout", errorMessage: "slow" } });
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "failed", attempt: 3, errorCode: "chunk_failed", errorMessage: "chunk 0" } });
    await ingest.db.call.update({ where: { id }, data: { status: "failed", failedStage: "transcription", errorCode: "chunk_failed", errorMessage: "chunk 0" } });
    await waitFor("the upload's events published", async () => (await ingest.events("chunkReady")).length === 1);

    const retried = await ingest.api(`/v1/calls/${id}/retry`, { method: "POST" });
    expect(retried.status).toBe(202);
    expect(await retried.json()).toMatchObject({ id, status: "processing", stages: ["transcription"] });
    expect((await ingest.api(`/v1/calls/${id}/retry`, { method: "POST" })).status).toBe(409);

    const call = await ingest.db.call.findUniqueOrThrow({ where: { id }, include: { chunks: true, stages: true } });
    expect(call).toMatchObject({ status: "processing", failedStage: null, errorCode: null });
    expect(call.chunks[0]).toMatchObject({ status: "queued", attempt: 3, errorCode: null });
    expect(call.stages[0]).toMatchObject({ status: "queued", attempt: 3, errorCode: null });
    const chunkEvents = await waitFor("the re-drive published", async () => {
      const events = await ingest.events("chunkReady");
      return events.length === 2 ? events : undefined;
    });
    expect(chunkEvents[1]).toMatchObject({ callId: id, attempt: 3 });
    expect(await ingest.events("stageRedriven")).toHaveLength(1);
    expect(await ingest.db.auditEntry.findMany({ where: { entityId: id } })).toMatchObject([{ action: "call.retry", actor: `api-key:${ingest.tenant.keyId}` }]);
  });

  test("trim cuts the merged recording into a new audio version processed like a fresh upload", async ({ ingest, storage }) => {
    const id = await upload(ingest, 10);
    expect((await ingest.api(`/v1/calls/${id}/trim`, { method: "POST", body: JSON.stringify({ startSeconds: 2, endSeconds: 6 }), headers: { "content-type": "application/json" } })).status).toBe(409);

    const merged = await makeAudio("flac", 10, 600);
    const key = `tenants/${ingest.tenant.tenantId}/calls/${id}/v1/merged.flac`;
    await storage.store.putStream(key, Readable.from([merged]));
    await ingest.db.mergedRecording.create({ data: { tenantId: ingest.tenant.tenantId, callId: id, audioVersion: 1, objectKey: key, inputs: [], verifiedAt: new Date() } });
    await ingest.db.call.update({ where: { id }, data: { status: "completed", completedAt: new Date() } });

    const invalid = await ingest.api(`/v1/calls/${id}/trim`, { method: "POST", body: JSON.stringify({ startSeconds: 6, endSeconds: 2 }), headers: { "content-type": "application/json" } });
    expect(invalid.status).toBe(400);
    const trimmed = await ingest.api(`/v1/calls/${id}/trim`, { method: "POST", body: JSON.stringify({ startSeconds: 2, endSeconds: 6 }), headers: { "content-type": "application/json" } });
    expect(trimmed.status).toBe(202);
    expect(await trimmed.json()).toEqual({ id, status: "processing", audioVersion: 2 });

    const call = await ingest.db.call.findUniqueOrThrow({ where: { id }, include: { chunks: { where: { audioVersion: 2 } }, stages: { where: { audioVersion: 2 } } } });
    expect(call).toMatchObject({ audioVersion: 2, status: "processing", completedAt: null, contentType: "audio/ogg" });
    expect(call.durationSeconds).toBeCloseTo(4, 1);
    expect(call.chunks).toMatchObject([{ index: 0, status: "queued" }]);
    expect(call.stages).toMatchObject([{ stage: "transcription", status: "queued" }]);
    expect(await storage.store.head(call.chunks[0]!.objectKey)).not.toBeNull();
    const events = await waitFor("the new version's chunk event", async () => {
      const found = await ingest.events("chunkReady");
      return found.length === 2 ? found : undefined;
    });
    expect(events[1]).toMatchObject({ callId: id, chunkId: call.chunks[0]!.id });
    // The transcript of the old version is not the new version's.
    expect((await ingest.api(`/v1/calls/${id}/transcript`)).status).toBe(202);
  });
});
