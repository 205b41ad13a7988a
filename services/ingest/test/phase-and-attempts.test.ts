import { makeAudio } from "./support/audio.ts";
import { describe, expect, test, type IngestUnderTest } from "./support/ingest-fixture.ts";

const uploadWav = async (ingest: IngestUnderTest, seconds = 2): Promise<string> => {
  const response = await ingest.api("/v1/calls", { method: "POST", body: await makeAudio("wav", seconds) });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
};

type PhaseBody = { phase: string; phases: { phase: string; startedAt: string; finishedAt: string | null; durationMs: number }[] };

const statusOf = async (ingest: IngestUnderTest, id: string) => (await (await ingest.api(`/v1/calls/${id}`)).json()) as PhaseBody & Record<string, unknown>;
const listedOf = async (ingest: IngestUnderTest, id: string) => {
  const page = (await (await ingest.api("/v1/calls?limit=50")).json()) as { items: (PhaseBody & { id: string })[] };
  return page.items.find((item) => item.id === id);
};

/** The audit row a reaper re-drive leaves: the count the reaper's budget is kept in. */
const auditRedrive = (ingest: IngestUnderTest, entity: { type: "chunk" | "stage_run"; id: string }, action: string) =>
  ingest.db.auditEntry.create({ data: { actor: "reaper", action, entityType: entity.type, entityId: entity.id, tenantId: ingest.tenant.tenantId, reason: "test" } });

describe("a call's phase", () => {
  test("the status view and the list show the phase derived from the stages, with the time spent in each", async ({ ingest }) => {
    const id = await uploadWav(ingest);
    expect(await statusOf(ingest, id)).toMatchObject({ phase: "uploaded", phases: [{ phase: "uploading" }, { phase: "uploaded", finishedAt: null }] });
    expect(await listedOf(ingest, id)).toMatchObject({ phase: "uploaded" });

    const queuedAt = (await ingest.db.stageRun.findFirstOrThrow({ where: { callId: id, stage: "transcription" } })).createdAt;
    const startedAt = new Date(queuedAt.getTime() + 4_000);
    const transcribedAt = new Date(queuedAt.getTime() + 64_000);
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "running", attempt: 1, startedAt } });
    expect(await statusOf(ingest, id)).toMatchObject({ phase: "transcribing" });
    expect(await listedOf(ingest, id)).toMatchObject({ phase: "transcribing" });

    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "succeeded", finishedAt: transcribedAt } });
    await ingest.db.stageRun.create({ data: { tenantId: ingest.tenant.tenantId, callId: id, stage: "summary", status: "queued", createdAt: transcribedAt } });
    const summarizing = await statusOf(ingest, id);
    expect(summarizing.phase).toBe("summarizing");
    expect(summarizing.phases.map((p) => [p.phase, p.phase === "summarizing" ? "open" : p.durationMs])).toEqual([
      ["uploading", expect.any(Number)],
      ["uploaded", 4_000],
      ["transcribing", 60_000],
      ["summarizing", "open"],
    ]);

    await ingest.db.call.update({ where: { id }, data: { status: "failed", failedStage: "summary", errorCode: "stage_timeout" } });
    expect(await statusOf(ingest, id)).toMatchObject({ phase: "failed" });
    expect(await listedOf(ingest, id)).toMatchObject({ phase: "failed", phases: expect.arrayContaining([expect.objectContaining({ phase: "summarizing", finishedAt: expect.any(String) })]) });
  });
});

describe("a 202's attempt", () => {
  test("counts the reaper's re-drives of the work under way against its budget, and the message says so", async ({ ingest }) => {
    const id = await uploadWav(ingest);
    const pending = async (artifact: string) => {
      const response = await ingest.api(`/v1/calls/${id}/${artifact}`);
      expect(response.status).toBe(202);
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await pending("transcript")).toMatchObject({ status: "pending", stage: "transcription", attempt: { current: 1, max: 3 }, message: "the transcript is being prepared (attempt 1/3)" });

    const chunk = await ingest.db.chunk.findFirstOrThrow({ where: { callId: id } });
    await auditRedrive(ingest, { type: "chunk", id: chunk.id }, "chunk.redrive");
    expect(await pending("transcript")).toMatchObject({ attempt: { current: 2, max: 3 }, message: "the transcript is being prepared (attempt 2/3)" });
    expect(await pending("summary")).toMatchObject({ stage: "summary", stageStatus: "waiting", attempt: { current: 2, max: 3 } });

    await ingest.db.chunk.updateMany({ where: { callId: id }, data: { status: "transcribed", text: "hi" } });
    await ingest.db.stageRun.updateMany({ where: { callId: id }, data: { status: "succeeded", finishedAt: new Date() } });
    const summary = await ingest.db.stageRun.create({ data: { tenantId: ingest.tenant.tenantId, callId: id, stage: "summary", status: "queued" } });
    expect(await pending("summary")).toMatchObject({ attempt: { current: 1, max: 3 }, message: "the summary is being prepared (attempt 1/3)" });
    await auditRedrive(ingest, { type: "stage_run", id: summary.id }, "stage.redrive");
    await auditRedrive(ingest, { type: "stage_run", id: summary.id }, "stage.redrive");
    expect(await pending("summary")).toMatchObject({ attempt: { current: 3, max: 3 }, message: "the summary is being prepared (attempt 3/3)" });
  });
});
