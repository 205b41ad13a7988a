import { readFile } from "node:fs/promises";
import { decodeEvent } from "@callflow/contracts";
import * as aggregator from "@callflow/aggregator";
import * as ingest from "@callflow/ingest";
import * as reaper from "@callflow/reaper";
import * as transcription from "@callflow/transcription";
import { describe, expect, freePort, spawnService, stopService, test, waitFor, waitReady } from "@callflow/testkit";
import { synthesizeCall } from "../src/sample-call.ts";
import { pipelineEnv } from "./support/pipeline-env.ts";

describe("a transcription worker killed mid-chunk", () => {
  test("leaves a running chunk that the reaper re-drives and a new worker completes, once", async ({ database, messaging, storage }) => {
    const env: Record<string, string> = { ...pipelineEnv(database, messaging, storage), CALLFLOW_INGEST_PORT: "0", CALLFLOW_AGGREGATOR_OPS_PORT: "0", CALLFLOW_REAPER_OPS_PORT: "0" };
    const sample = await synthesizeCall();
    const tenant = await database.db.tenant.create({ data: { name: "killed worker" } });
    const { key } = await ingest.createApiKey(database.db, { tenantId: tenant.id, name: "test" });
    const running: { stop(): Promise<void> }[] = [];
    try {
      const api = await ingest.start(ingest.ingestConfigFromEnv(env));
      running.push(api);
      const opsPort = await freePort();
      const doomed = spawnService("transcription", { ...env, CALLFLOW_TRANSCRIPTION_OPS_PORT: String(opsPort) });
      await waitReady(doomed, `http://127.0.0.1:${opsPort}/readyz`);

      const answer = await fetch(`${api.url}/v1/calls`, { method: "POST", body: await readFile(sample.call), headers: { authorization: `Bearer ${key}`, "content-type": "audio/wav" } });
      expect(answer.status).toBe(202);
      const { id: callId } = (await answer.json()) as { id: string };
      const claimed = await waitFor("the worker to claim the chunk", () => database.db.chunk.findFirst({ where: { callId, status: "running" } }), { timeoutMs: 30_000, intervalMs: 20 });
      doomed.child.kill("SIGKILL");
      await stopService(doomed);
      expect(await database.db.chunk.findUniqueOrThrow({ where: { id: claimed.id } })).toMatchObject({ status: "running", attempt: 1 });

      running.push(await aggregator.start(aggregator.aggregatorConfigFromEnv(env)));
      running.push(await transcription.start(transcription.transcriptionConfigFromEnv({ ...env, CALLFLOW_TRANSCRIPTION_OPS_PORT: "0" })));
      const sweeper = await reaper.start(reaper.reaperConfigFromEnv(env), { timer: false });
      running.push(sweeper);
      // The dead worker's heartbeat is as old as the reaper's clock says: four minutes on.
      const sweep = await sweeper.sweepNow({ now: new Date(Date.now() + 4 * 60_000) });
      expect(sweep.actions).toEqual(expect.arrayContaining([expect.objectContaining({ entityId: claimed.id, kind: "chunk.redrive", outcome: "applied" })]));

      const done = await waitFor("the chunk transcribed after the re-drive", async () => {
        const chunk = await database.db.chunk.findUniqueOrThrow({ where: { id: claimed.id } });
        return chunk.status === "transcribed" ? chunk : undefined;
      }, { timeoutMs: 90_000, intervalMs: 100 });
      // 1 the killed claim, 2 the re-drive (which fences the dead worker's heartbeat), 3 the new claim.
      expect(done.attempt).toBe(3);
      expect(done.text).toMatch(/sarah/);
      await waitFor("the call transcribed", async () => (await database.db.transcript.count({ where: { callId } })) === 1, { timeoutMs: 30_000 });
      const transcribedEvents = (await database.db.outboxEvent.findMany({ where: { subject: messaging.topology.subject("chunkTranscribed") } }))
        .map((row) => decodeEvent("chunkTranscribed", row.payload))
        .filter((event) => event.chunkId === claimed.id);
      expect(transcribedEvents).toHaveLength(1);
      expect(await database.db.auditEntry.count({ where: { entityId: claimed.id, action: "chunk.redrive" } })).toBe(1);
    } finally {
      for (const service of running.reverse()) await service.stop();
      await sample.cleanup();
    }
  }, 180_000);
});
