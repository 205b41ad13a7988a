import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test, testInfraUrls } from "@callflow/testkit";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** `pnpm callflow dial <number> --local` as a person runs it; resolves when the child exits. */
const dialLocally = (number: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> => {
  const child = spawn("pnpm", ["--silent", "callflow", "dial", number, "--local", "--timeout", "120"], {
    cwd: ROOT,
    env: { ...process.env, ...env, CALLFLOW_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (data: Buffer) => (output += data.toString()));
  child.stderr.on("data", (data: Buffer) => (output += data.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
};

/** The statuses the follow printed, in order: each timeline line is "  HH:MM:SS  <status>…". */
const statusesIn = (output: string): string[] => [...output.matchAll(/^ {2}\d\d:\d\d:\d\d {2}([a-z ]+?)(?: \(attempt \d+\))?(?: — .*)?$/gm)].map((match) => match[1]!);

describe("callflow dial --local", () => {
  test(
    "follows a call the simulated carrier answers from queued to completed, then its recording into a completed call and the lead made from it, and exits 0",
    async ({ database, messaging }) => {
      const { code, output } = await dialLocally("+14155550001", { CALLFLOW_DATABASE_URL: database.url, CALLFLOW_NATS_URL: testInfraUrls().nats, CALLFLOW_NAMESPACE: messaging.namespace });

      expect(code, output).toBe(0);
      expect(output).toMatch(/\(outbound-dialer\)/);
      expect(statusesIn(output), output).toEqual(["queued", "placing", "placed", "ringing", "in progress", "completed"]);
      expect(output).toMatch(/Dial [0-9a-f-]{36} to \+14155550001: completed/);
      expect(output).toMatch(/provider call\s+CA[0-9a-f]{32}/);
      expect(output).toMatch(/attempts\s+1 of \d+/);
      expect(output).toMatch(/Recording\n(?: {2}.*\n)* {2}fetched into call [0-9a-f-]{36}/);
      expect(output).toMatch(/Call [0-9a-f-]{36}: completed/);
      expect(output).toMatch(/Transcript\n\s+\S+/);
      expect(output).toMatch(/Lead [0-9a-f-]{36} \(outbound\)/);
      expect(output).not.toMatch(/^\{"level"/m);
      expect(output).toMatch(/Service logs: \S+\.log/);
    },
    300_000,
  );

  test(
    "ends a dial to a busy number as busy, which the carrier reported, so it still exits 0",
    async ({ database, messaging }) => {
      const { code, output } = await dialLocally("+14155550002", { CALLFLOW_DATABASE_URL: database.url, CALLFLOW_NATS_URL: testInfraUrls().nats, CALLFLOW_NAMESPACE: messaging.namespace });

      expect(code, output).toBe(0);
      expect(statusesIn(output).at(-1), output).toBe("busy");
      expect(output).not.toMatch(/^Recording$/m);
      expect(statusesIn(output)).not.toContain("in progress");
      expect(output).toMatch(/Dial [0-9a-f-]{36} to \+14155550002: busy/);
    },
    300_000,
  );
});
