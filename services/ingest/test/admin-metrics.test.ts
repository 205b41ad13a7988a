import { describe, expect, test } from "./support/ingest-fixture.ts";

const MINUTE = 60_000;

describe("GET /v1/admin/metrics", () => {
  test("counts calls, the stage latency p99 and the waiting work per bucket of the range asked for", async ({ ingest }) => {
    const { db } = ingest;
    const operator = await ingest.createTenant("operators", ["admin"]);
    const tenantId = ingest.tenant.tenantId;
    // Three 10-minute buckets ending 10 minutes ago.
    const from = new Date(Math.floor((Date.now() - 40 * MINUTE) / 1000) * 1000);
    const at = (minutes: number) => new Date(from.getTime() + minutes * MINUTE);

    const call = (data: { createdAt: Date; status?: "processing" | "completed" | "failed"; completedAt?: Date; updatedAt?: Date }) =>
      db.call.create({ data: { tenantId, source: "upload", status: data.status ?? "processing", createdAt: data.createdAt, completedAt: data.completedAt ?? null, updatedAt: data.updatedAt ?? data.createdAt } });
    const a = await call({ createdAt: at(1), status: "completed", completedAt: at(12) });
    const b = await call({ createdAt: at(2) });
    await call({ createdAt: at(13), status: "failed", updatedAt: at(25) });
    await call({ createdAt: at(-5) });
    await call({ createdAt: at(31) });

    // Transcription runs that took 10 s and 20 s from queued to finished, both finishing in the second bucket.
    await db.stageRun.create({ data: { tenantId, callId: a.id, stage: "transcription", status: "succeeded", createdAt: at(11), startedAt: at(11), finishedAt: new Date(at(11).getTime() + 10_000) } });
    await db.stageRun.create({ data: { tenantId, callId: b.id, stage: "transcription", status: "succeeded", createdAt: at(14), startedAt: at(14), finishedAt: new Date(at(14).getTime() + 20_000) } });
    // A merge queued in the second bucket and never taken.
    await db.stageRun.create({ data: { tenantId, callId: b.id, stage: "merge", status: "queued", createdAt: at(15) } });
    // A chunk never taken, and one taken in the second bucket.
    const chunk = (index: number, data: { createdAt: Date; startedAt?: Date; status: "queued" | "running" }) =>
      db.chunk.create({ data: { tenantId, callId: b.id, index, objectKey: `k/${index}`, ...data } });
    await chunk(0, { createdAt: at(3), status: "queued" });
    await chunk(1, { createdAt: at(4), startedAt: at(12), status: "running" });

    const response = await ingest.api(`/v1/admin/metrics?from=${from.toISOString()}&to=${at(30).toISOString()}&stepSeconds=600`, { key: operator.key });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { stepSeconds: number; points: { at: string; calls: unknown; latencyP99Seconds: Record<string, number | null>; waiting: unknown }[] };
    expect(body.stepSeconds).toBe(600);
    expect(body.points.map((point) => point.at)).toEqual([at(0), at(10), at(20)].map((date) => date.toISOString()));
    expect(body.points.map((point) => point.calls)).toEqual([
      { created: 2, completed: 0, failed: 0 },
      { created: 1, completed: 1, failed: 0 },
      { created: 0, completed: 0, failed: 1 },
    ]);
    expect(body.points.map((point) => point.latencyP99Seconds.transcription)).toEqual([null, expect.closeTo(19.9, 5), null]);
    expect(body.points.map((point) => point.latencyP99Seconds.merge)).toEqual([null, null, null]);
    expect(body.points.map((point) => point.waiting)).toEqual([
      { transcription: 2, merge: 0, summary: 0 },
      { transcription: 1, merge: 1, summary: 0 },
      { transcription: 1, merge: 1, summary: 0 },
    ]);
  });

  test("defaults to the last hour in whole minutes, refuses a range it cannot draw, and needs the admin scope", async ({ ingest }) => {
    const operator = await ingest.createTenant("operators", ["admin"]);
    const asOperator = { key: operator.key };
    const hour = (await (await ingest.api("/v1/admin/metrics", asOperator)).json()) as { from: string; to: string; stepSeconds: number; points: unknown[] };
    expect(hour.stepSeconds).toBe(60);
    expect(Date.parse(hour.to) - Date.parse(hour.from)).toBe(3_600_000);
    expect(hour.points).toHaveLength(60);

    const code = async (query: string) => ((await (await ingest.api(`/v1/admin/metrics?${query}`, asOperator)).json()) as { error: { code: string } }).error.code;
    expect(await code(`from=${new Date(Date.now() + 60_000).toISOString()}`)).toBe("invalid_range");
    expect(await code(`from=${new Date(Date.now() - 8 * 24 * 3_600_000).toISOString()}`)).toBe("invalid_range");
    expect(await code(`from=${new Date(Date.now() - 24 * 3_600_000).toISOString()}&stepSeconds=10`)).toBe("invalid_range");
    expect((await ingest.api("/v1/admin/metrics")).status).toBe(403);
  });
});
