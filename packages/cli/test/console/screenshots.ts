// Not a test: regenerates the console's screenshots in docs/console/ from a real run. Starts the whole
// stack as `callflow up` does on a database and JetStream namespace of its own, processes the sample
// call (festival speech, pocketsphinx), places dials on the simulated carrier, adds an hour of calls,
// stuck work and a dead letter, then photographs each page in Chromium at a laptop's size.
// Run: pnpm --filter @callflow/cli console:screenshots
import { randomUUID } from "node:crypto";
import { readFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { builtConsole } from "@callflow/console/build";
import { encodeEvent, topology } from "@callflow/contracts";
import { createDb } from "@callflow/db";
import { synthesizeCall } from "../../src/sample-call.ts";
import { startStack } from "../../src/stack.ts";
import { launchChromium } from "./support/chromium.ts";

const OUT = fileURLToPath(new URL("../../../../docs/console/", import.meta.url));
const ADMIN_DATABASE = process.env.CALLFLOW_TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);

const until = async <T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 240_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
};

const databaseName = `callflow_screenshots_${Date.now().toString(36)}`;
const databaseUrl = new URL(ADMIN_DATABASE);
databaseUrl.pathname = `/${databaseName}`;
const namespace = `shots_${Date.now().toString(36)}`;
const t = topology(namespace);

await mkdir(OUT, { recursive: true });
const stack = await startStack(
  { ...process.env, CALLFLOW_DATABASE_URL: databaseUrl.toString(), CALLFLOW_NAMESPACE: namespace, CALLFLOW_LOG_LEVEL: "warn", CALLFLOW_INGEST_CONSOLE_DIR: await builtConsole(), CALLFLOW_REAPER_DRY_RUN: "true" },
  { randomPorts: true },
);
const db = createDb(databaseUrl.toString(), { poolSize: 2 });
const browser = await launchChromium();
const api = (path: string, init: RequestInit = {}) => fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, ...(init.headers as Record<string, string> | undefined) } });
const tenantId = stack.tenantId;

try {
  // An hour of calls behind the real one: most completed, some failed, some dialled.
  for (let i = 1; i <= 45; i++) {
    const createdAt = ago(i * 80_000);
    const failed = i % 9 === 0;
    const call = await db.call.create({
      data: {
        tenantId,
        source: i % 4 === 0 ? "dial" : "upload",
        status: failed ? "failed" : "completed",
        durationSeconds: 40 + ((i * 37) % 300),
        sizeBytes: (40 + ((i * 37) % 300)) * 32_000,
        createdAt,
        uploadFinishedAt: createdAt,
        completedAt: failed ? null : new Date(createdAt.getTime() + 20_000 + i * 900),
        updatedAt: new Date(createdAt.getTime() + 20_000 + i * 900),
        ...(failed ? { failedStage: "transcription", errorCode: i % 2 ? "unsupported_audio" : "provider_timeout", errorMessage: i % 2 ? "chunk 0 is not audio ffprobe can read" : "no result within 90 s" } : {}),
      },
    });
    for (const [stage, offset, took] of [["transcription", 1, 14 + (i % 5)], ["merge", 16 + (i % 5), 2], ["summary", 16 + (i % 5), 3]] as const) {
      if (failed && stage !== "transcription") continue;
      const queued = new Date(createdAt.getTime() + offset * 1000);
      await db.stageRun.create({
        data: { tenantId, callId: call.id, stage, status: failed ? "failed" : "succeeded", attempt: 1, createdAt: queued, startedAt: new Date(queued.getTime() + 400), finishedAt: new Date(queued.getTime() + took * 1000) },
      });
    }
  }

  // The sample call through the API, processed for real.
  const sample = await synthesizeCall();
  const uploaded = (await (await api("/v1/calls", { method: "POST", body: await readFile(sample.call), headers: { "content-type": "audio/wav" } })).json()) as { id: string };
  await sample.cleanup();
  // Dials to the simulated carrier: answered, busy, and one the API refuses.
  const dial = async (to: string, campaign: string) => ((await (await api("/v1/dials", { method: "POST", body: JSON.stringify({ to, campaign }), headers: { "content-type": "application/json" } })).json()) as { id: string }).id;
  const answered = await dial("+14155550001", "renewals");
  await dial("+14155550002", "renewals");
  await dial("+14155550005", "win-back");
  await until("the sample call to complete", async () => ((await (await api(`/v1/calls/${uploaded.id}`)).json()) as { status: string }).status === "completed");
  await until("the answered dial to finish", async () => ((await (await api(`/v1/dials/${answered}`)).json()) as { status: string }).status === "completed");

  // Work in flight, and work stuck: a chunk no worker took, a summary whose worker went silent.
  const inFlight = await db.call.create({ data: { tenantId, source: "upload", status: "processing", durationSeconds: 3, uploadFinishedAt: ago(MINUTE), expectedChunkCount: 1, createdAt: ago(MINUTE) } });
  await db.stageRun.create({ data: { tenantId, callId: inFlight.id, stage: "transcription", status: "queued", createdAt: ago(MINUTE) } });
  const waiting = await db.chunk.create({ data: { tenantId, callId: inFlight.id, index: 0, objectKey: `tenants/${tenantId}/calls/${inFlight.id}/v1/chunks/0.wav`, status: "queued", durationSeconds: 3, createdAt: ago(MINUTE) } });
  await db.auditEntry.create({ data: { actor: "reaper", action: "chunk.redrive", entityType: "chunk", entityId: waiting.id, tenantId, reason: "queued_unclaimed", before: { status: "queued", attempt: 0 }, after: { status: "queued", attempt: 1 } } });
  const stale = ago(22 * MINUTE);
  const stuck = await db.call.create({ data: { tenantId, source: "upload", status: "processing", uploadFinishedAt: stale, expectedChunkCount: 1, createdAt: stale } });
  await db.stageRun.create({ data: { tenantId, callId: stuck.id, stage: "transcription", status: "queued", createdAt: stale, updatedAt: stale } });
  await db.chunk.create({ data: { tenantId, callId: stuck.id, index: 0, objectKey: `tenants/${tenantId}/calls/${stuck.id}/v1/chunks/0.wav`, status: "queued", createdAt: stale, updatedAt: stale } });
  const silent = await db.call.create({ data: { tenantId, source: "dial", status: "processing", uploadFinishedAt: ago(40 * MINUTE), expectedChunkCount: 1, durationSeconds: 95, createdAt: ago(40 * MINUTE) } });
  await db.stageRun.create({ data: { tenantId, callId: silent.id, stage: "transcription", status: "succeeded", attempt: 1, createdAt: ago(40 * MINUTE), startedAt: ago(40 * MINUTE), finishedAt: ago(38 * MINUTE) } });
  await db.stageRun.create({ data: { tenantId, callId: silent.id, stage: "summary", status: "running", attempt: 1, createdAt: ago(38 * MINUTE), startedAt: ago(37 * MINUTE), heartbeatAt: ago(15 * MINUTE), updatedAt: ago(15 * MINUTE) } });
  await db.deadLetter.create({
    data: {
      stream: t.stream("calls"),
      consumer: t.consumer("summary").durable,
      subject: t.subject("callTranscribed"),
      streamSequence: 4_182n,
      headers: { traceparent: ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"] },
      payload: new Uint8Array(encodeEvent("callTranscribed", { tenantId, callId: silent.id, transcriptId: randomUUID(), audioVersion: 1 })),
      deliveryCount: 5,
      reason: "max_deliveries",
      errorCode: "llm_timeout",
      errorMessage: "the model gave no answer within 60 s",
      entityType: "call",
      entityId: silent.id,
      tenantId,
      createdAt: ago(12 * MINUTE),
    },
  });

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const shoot = async (name: string, options: { fullPage?: boolean } = {}) => {
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await page.screenshot({ path: `${OUT}${name}.png`, fullPage: options.fullPage ?? true, animations: "disabled" });
    console.log(`docs/console/${name}.png`);
  };

  await page.goto(`${stack.apiUrl}/console/`);
  await page.getByLabel("API key").fill("cf_this-key-is-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor();
  await shoot("sign-in");
  await page.getByLabel("API key").fill(stack.apiKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("table.calls tbody tr").first().waitFor();
  // The first screenful: the list goes on for 50 rows.
  await shoot("calls", { fullPage: false });

  await page.goto(`${stack.apiUrl}/console/calls/${uploaded.id}`);
  await page.locator(".summary-text").waitFor();
  await page.locator("ol.transcript").waitFor();
  await page.locator(".player audio").waitFor();
  await shoot("call");

  await page.goto(`${stack.apiUrl}/console/calls/${inFlight.id}`);
  await page.getByText(/being prepared \(attempt 2\/3/).first().waitFor();
  await shoot("call-recording-pending");

  await page.goto(`${stack.apiUrl}/console/dials`);
  await page.getByLabel("To (international number)").fill("+15550000001");
  await page.getByRole("button", { name: "Place dial" }).click();
  await page.getByRole("alert").waitFor();
  await shoot("dials");
  await page.goto(`${stack.apiUrl}/console/dials/${answered}`);
  await page.getByRole("heading", { level: 1, name: /Dial to/ }).waitFor();
  await shoot("dial");

  await page.goto(`${stack.apiUrl}/console/operations`);
  await page.getByRole("figure", { name: /Consumer lag/ }).waitFor();
  await shoot("operations-overview");
  await page.goto(`${stack.apiUrl}/console/operations/stuck`);
  await page.locator("table.stuck tbody tr").first().waitFor();
  await page.getByRole("button", { name: "Dry run" }).click();
  await page.locator(".sweep-result").waitFor();
  await shoot("operations-stuck");
  await page.goto(`${stack.apiUrl}/console/operations/dead-letters`);
  await page.locator("li.dead-letter").first().waitFor();
  await page.locator("li.dead-letter summary").first().click();
  await shoot("operations-dead-letters");
  await page.goto(`${stack.apiUrl}/console/operations/audit`);
  await page.locator("table.audit tbody tr").first().waitFor();
  await shoot("operations-audit");
  await context.close();
} finally {
  await browser.close();
  await db.$disconnect();
  await stack.stop();
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`);
  await admin.end();
  const nats = await connect({ servers: process.env.CALLFLOW_NATS_URL ?? "nats://127.0.0.1:4222" });
  const jsm = await jetstreamManager(nats);
  for await (const name of jsm.streams.names()) if (name.startsWith(`${namespace.toUpperCase()}_`)) await jsm.streams.delete(name);
  await nats.close();
}
