import { Registry } from "prom-client";
import { describe, expect, test } from "@callflow/testkit";
import { registerPipelineState, type PipelineState } from "../src/pipeline-state.ts";

/** Samples of one metric in the text format, as `labels → value`. */
const samples = (text: string, name: string): Record<string, number> =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .map((line) => [line.slice(name.length, line.lastIndexOf(" ")) || "{}", Number(line.slice(line.lastIndexOf(" ") + 1))]),
  );

describe("the pipeline state read from Postgres at scrape time", () => {
  test("counts calls and dials by status, failed calls by stage and error code, and the oldest processing call's age", async ({ database }) => {
    const { db } = database;
    const tenant = await db.tenant.create({ data: { name: "pipeline state" } });
    const call = (status: "uploading" | "processing" | "completed" | "failed", extra: Record<string, unknown> = {}) =>
      db.call.create({ data: { tenantId: tenant.id, source: "upload", status, ...extra } });
    await call("uploading");
    const stale = await call("processing");
    await call("processing");
    await call("completed");
    await call("completed");
    await call("failed", { failedStage: "transcription", errorCode: "chunk_failed" });
    await call("failed", { failedStage: "transcription", errorCode: "chunk_failed" });
    await call("failed", { failedStage: "summary", errorCode: "summary_provider_rejected" });
    // The stale call last changed 40 minutes ago: what the stuck-call alerts watch.
    await db.$executeRaw`UPDATE calls SET updated_at = now() - interval '40 minutes' WHERE id = ${stale.id}::uuid`;
    await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+14155550001", status: "queued" } });
    await db.dial.create({ data: { tenantId: tenant.id, toNumber: "+14155550002", status: "busy" } });

    const registry = new Registry();
    registerPipelineState(registry, db);
    const text = await registry.metrics();

    expect(samples(text, "callflow_calls")).toEqual({
      '{status="uploading"}': 1,
      '{status="processing"}': 2,
      '{status="completed"}': 2,
      '{status="failed"}': 3,
    });
    expect(samples(text, "callflow_calls_created_total")).toEqual({ "{}": 8 });
    expect(samples(text, "callflow_calls_failed")).toEqual({
      '{stage="transcription",error_code="chunk_failed"}': 2,
      '{stage="summary",error_code="summary_provider_rejected"}': 1,
    });
    const age = samples(text, "callflow_calls_processing_oldest_age_seconds")["{}"]!;
    expect(age).toBeGreaterThanOrEqual(2_400);
    expect(age).toBeLessThan(2_460);
    const dials = samples(text, "callflow_dials");
    expect(dials['{status="queued"}']).toBe(1);
    expect(dials['{status="busy"}']).toBe(1);
    expect(dials['{status="completed"}']).toBe(0);
  });

  test("reads Postgres once for every gauge of a scrape, and again only after maxAgeMs", async ({ database }) => {
    let reads = 0;
    let clock = 0;
    const state: PipelineState = { callsByStatus: [{ status: "processing", count: 4 }], failedCalls: [], dialsByStatus: [], oldestProcessingAgeSeconds: 12 };
    const registry = new Registry();
    registerPipelineState(registry, database.db, {
      maxAgeMs: 5_000,
      now: () => clock,
      read: async () => {
        reads += 1;
        return state;
      },
    });
    await registry.metrics();
    expect(reads).toBe(1);
    clock = 4_000;
    await registry.metrics();
    expect(reads).toBe(1);
    clock = 10_000;
    expect(samples(await registry.metrics(), "callflow_calls")['{status="processing"}']).toBe(4);
    expect(reads).toBe(2);
  });

  test("a read that fails leaves the labelled series out of that scrape rather than reporting stale counts", async ({ database }) => {
    const registry = new Registry();
    registerPipelineState(registry, database.db, { read: async () => Promise.reject(new Error("connection refused")) });
    const text = await registry.metrics();
    expect(samples(text, "callflow_calls")).toEqual({});
    expect(samples(text, "callflow_calls_failed")).toEqual({});
  });
});
