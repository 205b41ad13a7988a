import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createApiKey, ADMIN_SCOPE } from "@callflow/ingest";
import { summaryContent } from "@callflow/summary";
import { describe, expect, freePort, spawnService, stopService, test, waitFor, waitReady, wordErrorRate, type ServiceProcess } from "@callflow/testkit";
import { sampleScript, synthesizeCall } from "../src/sample-call.ts";
import { pipelineEnv } from "./support/pipeline-env.ts";

const run = promisify(execFile);
const durationOf = async (file: string) => Number((await run("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file])).stdout.trim());

const WORKERS = ["transcription", "aggregator", "merge", "summary", "reaper"] as const;

describe("the whole pipeline, every service a process of its own", () => {
  test(
    "a festival-synthesized multi-chunk call becomes completed with an accurate transcript, a valid summary and a verified merge",
    async ({ database, messaging, storage }) => {
      const sample = await synthesizeCall();
      const tenant = await database.db.tenant.create({ data: { name: "end to end" } });
      const { key } = await createApiKey(database.db, { tenantId: tenant.id, name: "e2e", scopes: [ADMIN_SCOPE] });
      const apiPort = await freePort();
      const env = { ...pipelineEnv(database, messaging, storage), CALLFLOW_INGEST_PORT: String(apiPort) };
      const services: ServiceProcess[] = [];
      try {
        const api = `http://127.0.0.1:${apiPort}`;
        services.push(spawnService("ingest", env));
        const ready: Promise<void>[] = [waitReady(services[0]!, `${api}/readyz`)];
        for (const name of WORKERS) {
          const port = await freePort();
          const service = spawnService(name, { ...env, [`CALLFLOW_${name.toUpperCase()}_OPS_PORT`]: String(port) });
          services.push(service);
          ready.push(waitReady(service, `http://127.0.0.1:${port}/readyz`));
        }
        await Promise.all(ready);

        const call = (path: string, init: RequestInit = {}) =>
          fetch(`${api}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
        const opened = (await (await call("/v1/calls/recorder", { method: "POST" })).json()) as { id: string };
        for (const [index, file] of sample.turns.entries()) {
          const answer = await call(`/v1/calls/${opened.id}/chunks?index=${index}`, { method: "POST", body: await readFile(file), headers: { "content-type": "audio/wav" } });
          expect(answer.status, await answer.clone().text()).toBe(202);
        }
        expect((await call(`/v1/calls/${opened.id}/finish`, { method: "POST" })).status).toBe(202);

        const finished = await waitFor(
          "the call to become terminal",
          async () => {
            const body = (await (await call(`/v1/calls/${opened.id}`)).json()) as { status: string; error: unknown };
            return body.status === "completed" || body.status === "failed" ? body : undefined;
          },
          { timeoutMs: 240_000, intervalMs: 250 },
        ).catch((error: Error) => {
          throw new Error(`${error.message}\n${services.map((service) => `--- ${service.name} ---\n${service.output().slice(-3_000)}`).join("\n")}`);
        });
        expect(finished, JSON.stringify(finished)).toMatchObject({ status: "completed" });

        const transcript = (await (await call(`/v1/calls/${opened.id}/transcript`)).json()) as { text: string; partial: boolean };
        expect(transcript.partial).toBe(false);
        const wer = wordErrorRate(sampleScript(), transcript.text);
        expect(wer, `WER ${wer.toFixed(3)} for: ${transcript.text}`).toBeLessThanOrEqual(0.2);

        const summary = (await (await call(`/v1/calls/${opened.id}/summary`)).json()) as { content: unknown };
        expect(summaryContent.safeParse(summary.content).success, JSON.stringify(summary.content)).toBe(true);

        const recording = await call(`/v1/calls/${opened.id}/recording`);
        expect(recording.status).toBe(200);
        const dir = await mkdtemp(join(tmpdir(), "callflow-e2e-"));
        try {
          const merged = join(dir, "merged");
          await writeFile(merged, Buffer.from(await recording.arrayBuffer()));
          const input = await durationOf(sample.call);
          expect(Math.abs((await durationOf(merged)) - input) / input).toBeLessThanOrEqual(0.02);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }

        const stages = await database.db.stageRun.findMany({ where: { callId: opened.id }, select: { stage: true, status: true, attempt: true, startedAt: true, finishedAt: true } });
        expect(stages.map((stage) => `${stage.stage}:${stage.status}`).sort()).toEqual(["completion:succeeded", "merge:succeeded", "summary:succeeded", "transcription:succeeded"]);
        for (const stage of stages) expect(stage, stage.stage).toMatchObject({ attempt: 1, startedAt: expect.any(Date), finishedAt: expect.any(Date) });
      } finally {
        const codes = await Promise.all(services.map((service) => stopService(service)));
        await sample.cleanup();
        expect(codes.every((code) => code === 0), `exit codes ${codes.join(", ")}`).toBe(true);
      }
    },
    300_000,
  );
});
