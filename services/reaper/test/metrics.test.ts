import { waitFor } from "@callflow/testkit";
import { describe, expect, test } from "./support.ts";

const sample = (text: string, line: string): number | undefined => {
  const found = text.split("\n").find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(found.lastIndexOf(" ") + 1));
};

describe("the reaper's /metrics", () => {
  test("reports its last completed sweep's time, re-drives from 0, and the pipeline's state from Postgres", async ({ reaper, database }) => {
    const metrics = async () => (await fetch(`${reaper.opsUrl}/metrics`)).text();
    const before = await metrics();
    expect(sample(before, 'callflow_reaper_last_sweep_timestamp_seconds{service="reaper"}')).toBe(0);
    for (const kind of ["chunk.redrive", "stage.redrive", "transcription.redrive"]) {
      expect(sample(before, `callflow_reaper_actions_total{kind="${kind}",outcome="applied",service="reaper"}`), kind).toBe(0);
    }

    const tenant = await database.db.tenant.create({ data: { name: "metrics" } });
    await database.db.call.create({ data: { tenantId: tenant.id, source: "upload", status: "processing" } });
    const sweptAt = Date.now() / 1000;
    const result = await reaper.sweepNow();
    expect(result.errors).toEqual([]);

    const after = await metrics();
    const last = sample(after, 'callflow_reaper_last_sweep_timestamp_seconds{service="reaper"}')!;
    expect(last).toBeGreaterThanOrEqual(Math.floor(sweptAt));
    expect(last).toBeLessThan(sweptAt + 60);
    // Postgres is read at most every 5 s: the call shows at a scrape after the first one's read.
    const counted = await waitFor("the new call in the pipeline state", async () => {
      const text = await metrics();
      return sample(text, 'callflow_calls{status="processing",service="reaper"}') === 1 ? text : undefined;
    }, { timeoutMs: 15_000, intervalMs: 500 });
    expect(sample(counted, 'callflow_calls_created_total{service="reaper"}')).toBe(1);
  });
});
