import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, freePort, spawnService, stopService, test, waitReady, type ServiceProcess } from "@callflow/testkit";
import { pipelineEnv } from "./support/pipeline-env.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SERVICES = ["ingest", "transcription", "aggregator", "merge", "summary", "reaper"] as const;

describe("the production build", () => {
  test(
    "bundles every service into dist/main.mjs that plain node starts, serves /readyz from, and stops cleanly on SIGTERM",
    async ({ database, messaging, storage }) => {
      await promisify(execFile)("pnpm", ["--silent", "build"], { cwd: ROOT, env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" }, timeout: 240_000 });
      const env = pipelineEnv(database, messaging, storage);
      const running: ServiceProcess[] = [];
      try {
        await Promise.all(
          SERVICES.map(async (name) => {
            const port = await freePort();
            const variable = name === "ingest" ? "CALLFLOW_INGEST_PORT" : `CALLFLOW_${name.toUpperCase()}_OPS_PORT`;
            const service = spawnService(name, { ...env, [variable]: String(port) }, { built: true });
            running.push(service);
            await waitReady(service, `http://127.0.0.1:${port}/readyz`);
          }),
        );
      } finally {
        const codes = await Promise.all(running.map((service) => stopService(service)));
        expect(codes, running.map((service) => `${service.name}: ${service.output().slice(-500)}`).join("\n")).toEqual(running.map(() => 0));
      }
    },
    300_000,
  );
});
