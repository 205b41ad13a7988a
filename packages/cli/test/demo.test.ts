import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test, testInfraUrls } from "@callflow/testkit";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("the README's main job", () => {
  test(
    "`pnpm demo` synthesizes a two-party call, processes it on the embedded defaults and prints a completed call",
    async ({ database, messaging }) => {
      // The same command the README gives, on this test's own database and JetStream namespace.
      const child = spawn("pnpm", ["--silent", "demo"], {
        cwd: ROOT,
        env: { ...process.env, CALLFLOW_DATABASE_URL: database.url, CALLFLOW_NATS_URL: testInfraUrls().nats, CALLFLOW_NAMESPACE: messaging.namespace, CALLFLOW_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (data: Buffer) => (output += data.toString()));
      child.stderr.on("data", (data: Buffer) => (output += data.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

      expect(code, output).toBe(0);
      expect(output).toMatch(/API key\s+cf_/);
      expect(output).toMatch(/Call [0-9a-f-]{36}: completed/);
      expect(output).toMatch(/Transcript\n\s+\S+/);
      expect(output).toMatch(/Summary \(extractive/);
      expect(output).toMatch(/merge\s+v1\s+succeeded/);
      // A person reads progress and results; the services' JSON log lines went to the file it names.
      expect(output).not.toMatch(/^\{"level"/m);
      expect(output).toMatch(/Service logs: \S+\.log/);
    },
    300_000,
  );
});
