import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import * as aggregator from "@callflow/aggregator";
import * as ingest from "@callflow/ingest";
import * as merge from "@callflow/merge";
import * as summary from "@callflow/summary";
import * as transcription from "@callflow/transcription";
import { describe, expect, test, waitFor } from "@callflow/testkit";
import { SAMPLE_CALL, synthesizeCall } from "../src/sample-call.ts";
import { pipelineEnv } from "./support/pipeline-env.ts";

interface CallBody {
  status: string;
  failedStage: string | null;
  error: { code: string; message: string | null } | null;
  partial: boolean;
  missingChunkIndexes: number[];
  chunks: { failed: { index: number; error: { code: string } | null }[] };
}

describe("a corrupt chunk", () => {
  test("fails the call under the default policy, or completes it partial under `partial`, and the API names the chunk", async ({ database, messaging, storage }) => {
    const env: Record<string, string> = { ...pipelineEnv(database, messaging, storage), CALLFLOW_INGEST_PORT: "0" };
    for (const name of ["TRANSCRIPTION", "AGGREGATOR", "MERGE", "SUMMARY"]) env[`CALLFLOW_${name}_OPS_PORT`] = "0";
    const sample = await synthesizeCall(SAMPLE_CALL.slice(0, 3));
    const tenant = await database.db.tenant.create({ data: { name: "corrupt chunk" } });
    const { key } = await ingest.createApiKey(database.db, { tenantId: tenant.id, name: "test" });
    const running: { stop(): Promise<void> }[] = [];
    try {
      // Only the API first, so the chunk can be damaged in storage before any worker reads it.
      const api = await ingest.start(ingest.ingestConfigFromEnv(env));
      running.push(api);
      const call = (path: string, init: RequestInit = {}) =>
        fetch(`${api.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });

      const upload = async (failurePolicy: "fail" | "partial") => {
        const opened = (await (await call("/v1/calls/recorder", { method: "POST", body: JSON.stringify({ failurePolicy }), headers: { "content-type": "application/json" } })).json()) as { id: string };
        for (const [index, file] of sample.turns.entries()) {
          const answer = await call(`/v1/calls/${opened.id}/chunks?index=${index}`, { method: "POST", body: await readFile(file), headers: { "content-type": "audio/wav" } });
          expect(answer.status).toBe(202);
        }
        expect((await call(`/v1/calls/${opened.id}/finish`, { method: "POST" })).status).toBe(202);
        const damaged = await database.db.chunk.findFirstOrThrow({ where: { callId: opened.id, index: 1 } });
        await storage.store.putStream(damaged.objectKey, Readable.from([randomBytes(64 * 1024)]));
        return opened.id;
      };
      const failing = await upload("fail");
      const partial = await upload("partial");

      running.push(await transcription.start(transcription.transcriptionConfigFromEnv(env)));
      running.push(await aggregator.start(aggregator.aggregatorConfigFromEnv(env)));
      running.push(await merge.start(merge.mergeConfigFromEnv(env)));
      running.push(await summary.start(summary.summaryConfigFromEnv(env)));

      const terminal = (id: string) =>
        waitFor(
          `call ${id} terminal`,
          async () => {
            const body = (await (await call(`/v1/calls/${id}`)).json()) as CallBody;
            return body.status === "completed" || body.status === "failed" ? body : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 200 },
        );

      const failed = await terminal(failing);
      expect(failed).toMatchObject({ status: "failed", failedStage: "transcription", error: { code: "chunk_failed" } });
      expect(failed.error?.message).toMatch(/^chunk 1 failed/);
      expect(failed.chunks.failed.map((chunk) => chunk.index)).toEqual([1]);
      const transcript = await call(`/v1/calls/${failing}/transcript`);
      expect(transcript.status).toBeGreaterThanOrEqual(400);
      expect(((await transcript.json()) as { error: { code: string } }).error.code).toBe("chunk_failed");

      const completed = await terminal(partial);
      expect(completed).toMatchObject({ status: "completed", partial: true, missingChunkIndexes: [1] });
      const partialTranscript = (await (await call(`/v1/calls/${partial}/transcript`)).json()) as { partial: boolean; missingChunkIndexes: number[]; text: string };
      expect(partialTranscript).toMatchObject({ partial: true, missingChunkIndexes: [1] });
      expect(partialTranscript.text).toMatch(/sarah/);
      const recording = await database.db.mergedRecording.findFirstOrThrow({ where: { callId: partial } });
      expect(recording.partial).toBe(true);
      expect((recording.skipped as { index: number }[]).map((skipped) => skipped.index)).toEqual([1]);
    } finally {
      for (const service of running.reverse()) await service.stop();
      await sample.cleanup();
    }
  }, 180_000);
});
