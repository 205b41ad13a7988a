import { describe, expect, test, createCallWithChunk, createTenant, createTranscribedCall, later, MINUTE, outboxEvents, auditOf, SECOND } from "./support.ts";

describe("overdue transcription chunks", () => {
  test("a chunk whose worker was killed while running is re-driven once, and only the new attempt can complete it", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -10 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -5 * MINUTE), heartbeatAt: later(t0, -2 * MINUTE) } });

    const sweep = await reaper.sweepNow({ now: t0 });
    expect(sweep.actions.map((a) => [a.kind, a.outcome])).toEqual([["chunk.redrive", "applied"]]);
    const row = await db.chunk.findUniqueOrThrow({ where: { id: chunk.id } });
    expect(row).toMatchObject({ status: "queued", attempt: 2, heartbeatAt: null });
    expect(await outboxEvents(db, messaging.topology, "chunkReady")).toEqual([expect.objectContaining({ chunkId: chunk.id, attempt: 2, chunkIndex: 0 })]);

    // The killed worker's attempt is fenced: its heartbeat (a CAS on attempt 1) changes nothing.
    expect((await db.chunk.updateMany({ where: { id: chunk.id, attempt: 1, status: "running" }, data: { heartbeatAt: t0 } })).count).toBe(0);
    // The worker that takes the re-driven event claims and completes it (the transcription repo's CAS).
    expect((await db.chunk.updateMany({ where: { id: chunk.id, attempt: 2, status: "queued" }, data: { status: "running", attempt: 3, startedAt: t0, heartbeatAt: t0 } })).count).toBe(1);
    expect((await db.chunk.updateMany({ where: { id: chunk.id, attempt: 3, status: "running" }, data: { status: "transcribed", text: "hello", finishedAt: t0 } })).count).toBe(1);

    const again = await reaper.sweepNow({ now: later(t0, 10 * MINUTE) });
    expect(again.actions.filter((a) => a.entityId === chunk.id)).toEqual([]);
    expect(await outboxEvents(db, messaging.topology, "chunkReady")).toHaveLength(1);
    expect((await auditOf(db, chunk.id)).map((e) => [e.action, e.actor, e.sweepId])).toEqual([["chunk.redrive", "reaper", sweep.sweepId]]);
  });

  test("with no consumer at all, a queued chunk is re-driven N times, then the call fails with worker_not_processing_queue and the customer is notified", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db, "http://127.0.0.1:9/hook");
    const { callId, chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: t0, chunk: { status: "queued" } });

    // Not yet overdue: nothing.
    expect((await reaper.sweepNow({ now: later(t0, 30 * SECOND) })).actions).toEqual([]);
    const kinds: string[] = [];
    for (let step = 1; step <= 4; step += 1) {
      const { actions } = await reaper.sweepNow({ now: later(t0, step * 61 * SECOND) });
      // The clock moves minutes ahead of the outbox rows just written: those are not this test's subject.
      kinds.push(...actions.filter((a) => a.entityId === chunk.id).map((a) => a.kind));
    }
    expect(kinds).toEqual(["chunk.redrive", "chunk.redrive", "chunk.redrive", "chunk.fail"]);
    expect(await db.chunk.findUniqueOrThrow({ where: { id: chunk.id } })).toMatchObject({ status: "failed", errorCode: "worker_not_processing_queue", attempt: 3 });
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "failed", failedStage: "transcription", errorCode: "worker_not_processing_queue" });
    expect(await outboxEvents(db, messaging.topology, "chunkReady")).toHaveLength(3);
    expect(await outboxEvents(db, messaging.topology, "chunkFailed")).toEqual([expect.objectContaining({ chunkId: chunk.id, errorCode: "worker_not_processing_queue" })]);
    expect(await outboxEvents(db, messaging.topology, "callFailed")).toEqual([expect.objectContaining({ callId, errorCode: "worker_not_processing_queue" })]);
    expect(await db.notification.findMany({ where: { callId } })).toEqual([expect.objectContaining({ event: "call.failed" })]);
    const audit = await auditOf(db, chunk.id);
    expect(audit.map((e) => e.action)).toEqual(["chunk.redrive", "chunk.redrive", "chunk.redrive", "chunk.fail"]);
    expect(audit.at(-1)).toMatchObject({ before: expect.objectContaining({ status: "queued", attempt: 3 }), after: expect.objectContaining({ status: "failed", errorCode: "worker_not_processing_queue" }) });
  });

  test("a customer's retry of a call the reaper failed gives its chunk a fresh re-drive budget", async ({ reaper, database }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { callId, chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: t0, chunk: { status: "queued" } });
    const kindsAt = async (step: number) =>
      (await reaper.sweepNow({ now: later(t0, step * 61 * SECOND) })).actions.filter((a) => a.entityId === chunk.id).map((a) => a.kind);
    const before: string[] = [];
    for (let step = 1; step <= 4; step += 1) before.push(...(await kindsAt(step)));
    expect(before).toEqual(["chunk.redrive", "chunk.redrive", "chunk.redrive", "chunk.fail"]);

    // What POST /v1/calls/{id}/retry does to this call: the same chunk row queued again, audited call.retry.
    const retriedAt = later(t0, 4 * 61 * SECOND + SECOND);
    await db.chunk.update({ where: { id: chunk.id }, data: { status: "queued", errorCode: null, errorMessage: null, finishedAt: null, updatedAt: retriedAt } });
    await db.call.update({ where: { id: callId }, data: { status: "processing", failedStage: null, errorCode: null, errorMessage: null } });
    await db.auditEntry.create({ data: { at: retriedAt, actor: "api", action: "call.retry", entityType: "call", entityId: callId, tenantId: tenant.id, reason: "retry requested through the API" } });

    const after: string[] = [];
    for (let step = 6; step <= 9; step += 1) after.push(...(await kindsAt(step)));
    expect(after).toEqual(["chunk.redrive", "chunk.redrive", "chunk.redrive", "chunk.fail"]);
  });

  test("a provider that never answers fails the chunk with provider_timeout once the audio-scaled limit passes, though the worker still beats", async ({ reaper, database }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    // Limit: 300 s + 2 s per audio second. 60 s of audio → 420 s; 600 s of audio → 1 500 s.
    const short = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -30 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -421 * SECOND), heartbeatAt: t0, durationSeconds: 60, providerJobId: "job-short" } });
    const long = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -30 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -421 * SECOND), heartbeatAt: t0, durationSeconds: 600, providerJobId: "job-long" } });

    const { actions } = await reaper.sweepNow({ now: t0 });
    expect(actions.map((a) => [a.entityId, a.kind])).toEqual([[short.chunk.id, "chunk.fail"]]);
    expect(await db.chunk.findUniqueOrThrow({ where: { id: short.chunk.id } })).toMatchObject({ status: "failed", errorCode: "provider_timeout" });
    expect((await db.chunk.findUniqueOrThrow({ where: { id: short.chunk.id } })).errorMessage).toContain("job-short");
    expect(await db.call.findUniqueOrThrow({ where: { id: short.callId } })).toMatchObject({ status: "failed", errorCode: "provider_timeout" });
    expect(await db.chunk.findUniqueOrThrow({ where: { id: long.chunk.id } })).toMatchObject({ status: "running", attempt: 1 });
  });

  test("a chunk that completes between the sweep's read and its write keeps its result", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { chunk, callId } = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -10 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -5 * MINUTE), heartbeatAt: later(t0, -2 * MINUTE) } });

    const { actions } = await reaper.sweepNow({
      now: t0,
      beforeWrite: async ({ entityId }) => {
        if (entityId === chunk.id) await db.chunk.update({ where: { id: chunk.id }, data: { status: "transcribed", text: "late but done", heartbeatAt: t0, finishedAt: t0 } });
      },
    });
    expect(actions.map((a) => [a.kind, a.outcome])).toEqual([["chunk.redrive", "stale"]]);
    expect(await db.chunk.findUniqueOrThrow({ where: { id: chunk.id } })).toMatchObject({ status: "transcribed", text: "late but done", attempt: 1 });
    expect(await outboxEvents(db, messaging.topology, "chunkReady")).toEqual([]);
    expect(await auditOf(db, chunk.id)).toEqual([]);
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "processing" });
  });

  test("a running chunk without started_at is re-driven, and a failure that lost the race to a completion changes nothing", async ({ reaper, database }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const odd = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -2 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: null, heartbeatAt: t0 } });
    const timedOut = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -30 * MINUTE), chunk: { status: "running", attempt: 1, startedAt: later(t0, -20 * MINUTE), heartbeatAt: t0, durationSeconds: 1 } });

    const { actions } = await reaper.sweepNow({
      now: t0,
      beforeWrite: async ({ entityId }) => {
        if (entityId === timedOut.chunk.id) await db.chunk.update({ where: { id: entityId }, data: { status: "transcribed", text: "done", heartbeatAt: later(t0, 1) } });
      },
    });
    expect(Object.fromEntries(actions.map((a) => [a.entityId, `${a.kind}:${a.outcome}`]))).toEqual({
      [odd.chunk.id]: "chunk.redrive:applied",
      [timedOut.chunk.id]: "chunk.fail:stale",
    });
    expect(await db.call.findUniqueOrThrow({ where: { id: timedOut.callId } })).toMatchObject({ status: "processing", errorCode: null });
  });
});

describe("overdue stage runs", () => {
  test("a queued merge is re-driven with callTranscribed; a summary whose worker died is failed with stage_timeout after N re-drives", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { call, transcript } = await createTranscribedCall(db, { tenantId: tenant.id, status: "processing" });
    const merge = await db.stageRun.create({ data: { tenantId: tenant.id, callId: call.id, stage: "merge", status: "queued", createdAt: later(t0, -2 * MINUTE), updatedAt: later(t0, -2 * MINUTE) } });
    const summary = await db.stageRun.create({
      data: { tenantId: tenant.id, callId: call.id, stage: "summary", status: "running", attempt: 1, startedAt: later(t0, -3 * MINUTE), heartbeatAt: later(t0, -2 * MINUTE), createdAt: later(t0, -3 * MINUTE), updatedAt: later(t0, -2 * MINUTE) },
    });

    const first = await reaper.sweepNow({ now: t0 });
    expect(first.actions.map((a) => [a.entityId, a.kind]).sort()).toEqual([[merge.id, "stage.redrive"], [summary.id, "stage.redrive"]].sort());
    expect(await outboxEvents(db, messaging.topology, "callTranscribed")).toEqual([
      expect.objectContaining({ callId: call.id, transcriptId: transcript.id, audioVersion: 1 }),
      expect.objectContaining({ callId: call.id, transcriptId: transcript.id, audioVersion: 1 }),
    ]);
    // Merge gets picked up and finishes; summary's worker keeps dying.
    await db.stageRun.update({ where: { id: merge.id }, data: { status: "succeeded", finishedAt: t0 } });
    for (let step = 1; step <= 3; step += 1) {
      const now = later(t0, step * 2 * MINUTE);
      await db.stageRun.update({ where: { id: summary.id }, data: { status: "running", startedAt: later(now, -2 * MINUTE), heartbeatAt: later(now, -90 * SECOND) } });
      await reaper.sweepNow({ now });
    }
    expect(await db.stageRun.findUniqueOrThrow({ where: { id: summary.id } })).toMatchObject({ status: "failed", errorCode: "stage_timeout" });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({ status: "failed", failedStage: "summary", errorCode: "stage_timeout" });
    expect((await auditOf(db, summary.id)).map((e) => e.action)).toEqual(["stage.redrive", "stage.redrive", "stage.redrive", "stage.fail"]);
  });

  test("a finished call whose chunks are all terminal but never settled gets callUploadFinished again, then fails", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    const { callId, chunk } = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -5 * MINUTE), chunk: { status: "queued" } });
    await db.chunk.update({ where: { id: chunk.id }, data: { status: "transcribed", text: "hi", updatedAt: later(t0, -5 * MINUTE) } });

    const kinds: string[] = [];
    for (let step = 0; step <= 3; step += 1) kinds.push(...(await reaper.sweepNow({ now: later(t0, step * 61 * SECOND) })).actions.filter((a) => a.entityType !== "outbox").map((a) => a.kind));
    expect(kinds).toEqual(["transcription.redrive", "transcription.redrive", "transcription.redrive", "transcription.fail"]);
    expect(await outboxEvents(db, messaging.topology, "callUploadFinished")).toEqual([
      expect.objectContaining({ callId, chunkCount: 1 }),
      expect.objectContaining({ callId, chunkCount: 1 }),
      expect.objectContaining({ callId, chunkCount: 1 }),
    ]);
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "failed", errorCode: "worker_not_processing_queue" });
  });
});

describe("summary re-runs of completed calls", () => {
  test("a summary re-run whose worker died is re-driven like any other, then failed on its stage alone, leaving the completed call completed", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db);
    // POST /v1/calls/{id}/summary/retry keeps a completed call completed and queues its summary again.
    const { call, transcript } = await createTranscribedCall(db, { tenantId: tenant.id, status: "completed" });
    await db.stageRun.create({ data: { tenantId: tenant.id, callId: call.id, stage: "merge", status: "succeeded", attempt: 1, finishedAt: later(t0, -10 * MINUTE) } });
    const summary = await db.stageRun.create({
      data: { tenantId: tenant.id, callId: call.id, stage: "summary", status: "running", attempt: 2, startedAt: later(t0, -3 * MINUTE), heartbeatAt: later(t0, -2 * MINUTE), createdAt: later(t0, -30 * MINUTE), updatedAt: later(t0, -2 * MINUTE) },
    });

    const first = await reaper.sweepNow({ now: t0 });
    expect(first.actions.filter((a) => a.entityId === summary.id).map((a) => `${a.kind}:${a.outcome}`)).toEqual(["stage.redrive:applied"]);
    expect(await db.stageRun.findUniqueOrThrow({ where: { id: summary.id } })).toMatchObject({ status: "queued", attempt: 3 });
    expect(await outboxEvents(db, messaging.topology, "callTranscribed")).toEqual([expect.objectContaining({ callId: call.id, transcriptId: transcript.id })]);

    for (let step = 1; step <= 3; step += 1) {
      const now = later(t0, step * 2 * MINUTE);
      await db.stageRun.update({ where: { id: summary.id }, data: { status: "running", startedAt: later(now, -2 * MINUTE), heartbeatAt: later(now, -90 * SECOND) } });
      await reaper.sweepNow({ now });
    }
    expect((await auditOf(db, summary.id)).map((e) => e.action)).toEqual(["stage.redrive", "stage.redrive", "stage.redrive", "stage.fail"]);
    expect(await db.stageRun.findUniqueOrThrow({ where: { id: summary.id } })).toMatchObject({ status: "failed", errorCode: "stage_timeout" });
    expect(await db.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({ status: "completed", errorCode: null });
    expect(await outboxEvents(db, messaging.topology, "callFailed")).toEqual([]);
  });
});

describe("calls whose finishing event was lost", () => {
  test("a processing call with merge and summary stored is completed once its completion is overdue, and audited", async ({ reaper, database, messaging }) => {
    const { db } = database;
    const t0 = new Date();
    const tenant = await createTenant(db, "http://127.0.0.1:9/hook");
    const { callId } = await createCallWithChunk(db, { tenantId: tenant.id, at: later(t0, -20 * MINUTE), chunk: { status: "transcribed" } });
    for (const stage of ["transcription", "merge", "summary"] as const) {
      await db.stageRun.upsert({
        where: { callId_stage_audioVersion: { callId, stage, audioVersion: 1 } },
        create: { tenantId: tenant.id, callId, stage, status: "succeeded", attempt: 1, startedAt: later(t0, -11 * MINUTE), finishedAt: later(t0, -10 * MINUTE) },
        update: { status: "succeeded", attempt: 1, startedAt: later(t0, -11 * MINUTE), finishedAt: later(t0, -10 * MINUTE) },
      });
    }
    // Recent enough that the completion consumer may still be on its way: left alone.
    expect((await reaper.sweepNow({ now: later(t0, -9.5 * MINUTE) })).actions.filter((a) => a.entityId === callId)).toEqual([]);

    const sweep = await reaper.sweepNow({ now: t0 });
    expect(sweep.actions.filter((a) => a.entityId === callId).map((a) => [a.kind, a.outcome])).toEqual([["call.complete", "applied"]]);
    expect(await db.call.findUniqueOrThrow({ where: { id: callId } })).toMatchObject({ status: "completed", completedAt: t0 });
    expect(await outboxEvents(db, messaging.topology, "callCompleted")).toEqual([expect.objectContaining({ callId })]);
    expect(await db.notification.findMany({ where: { callId } })).toEqual([expect.objectContaining({ event: "call.completed" })]);
    expect((await auditOf(db, callId)).map((e) => [e.action, e.sweepId])).toEqual([["call.complete", sweep.sweepId]]);

    expect((await reaper.sweepNow({ now: later(t0, MINUTE) })).actions.filter((a) => a.entityId === callId)).toEqual([]);
  });
});
