import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { encodeEvent } from "@callflow/contracts";
import { waitFor } from "@callflow/testkit";
import { apiWith, describe, expect, signIn, test } from "./support/console-stack.ts";

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);

// The first test of the file also waits for the stack to start (and the console to be built once).
describe("the console's operations pages", { timeout: 180_000 }, () => {
  test("a stuck chunk is listed with its age and reason; a dry run lists what the sweep would do and changes nothing; the real sweep re-drives it", async ({ consoleStack, page }) => {
    const { db } = consoleStack.database;
    const { tenantId } = consoleStack;
    const at = ago(20 * MINUTE);
    const call = await db.call.create({ data: { tenantId, source: "upload", status: "processing", uploadFinishedAt: at, expectedChunkCount: 1, createdAt: at } });
    await db.stageRun.create({ data: { tenantId, callId: call.id, stage: "transcription", status: "queued", createdAt: at, updatedAt: at } });
    const chunk = await db.chunk.create({
      data: { tenantId, callId: call.id, index: 0, objectKey: `tenants/${tenantId}/calls/${call.id}/v1/chunks/0.wav`, status: "queued", createdAt: at, updatedAt: at },
    });

    await signIn(page, consoleStack.url, consoleStack.adminKey);
    await page.getByRole("link", { name: "Operations" }).click();
    await page.getByRole("link", { name: "Stuck work and sweeps" }).click();
    const stuckRow = page.locator(`table.stuck tr[data-entity-id="${chunk.id}"]`);
    await stuckRow.waitFor();
    expect(await stuckRow.textContent()).toMatch(/transcription.*chunk.*queued.*2\d min \d\d s.*queued_unclaimed/);

    await page.getByRole("button", { name: "Dry run" }).click();
    const planned = page.locator(`.sweep-result tr[data-entity-id="${chunk.id}"]`);
    await planned.waitFor();
    expect(await planned.textContent()).toMatch(/chunk\.redrive.*dry run/);
    expect(await page.locator(".sweep-result").textContent()).toMatch(/Dry run \w+ took .*: \d+ actions? it would take\./);
    expect(await db.chunk.findUniqueOrThrow({ where: { id: chunk.id } })).toMatchObject({ status: "queued", attempt: 0 });

    await page.getByRole("button", { name: "Sweep for real" }).click();
    await expect.poll(() => page.locator(`.sweep-result tr[data-entity-id="${chunk.id}"]`).textContent()).toMatch(/chunk\.redrive.*applied/);
    const redrive = await db.auditEntry.findFirst({ where: { entityId: chunk.id, action: "chunk.redrive", dryRun: false } });
    expect(redrive?.actor).toMatch(/^admin:/);
    // Re-driven, it is no longer overdue.
    await expect.poll(() => stuckRow.count()).toBe(0);

    // The audit log shows both, the dry run marked as one.
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Entity id").fill(chunk.id);
    await page.getByRole("button", { name: "Show" }).click();
    await expect.poll(() => page.locator("table.audit tbody tr").allTextContents()).toEqual([expect.stringMatching(/chunk\.redrive(?!dry run).*admin:/), expect.stringMatching(/chunk\.redrivedry run/)]);
  });

  test("a dead letter is shown with its payload and replayed from the page", async ({ consoleStack, page }) => {
    const { database, messaging, tenantId } = consoleStack;
    const t = messaging.topology;
    const callId = randomUUID();
    const payload = encodeEvent("callTranscribed", { tenantId, callId, transcriptId: randomUUID(), audioVersion: 1 });
    const letter = await database.db.deadLetter.create({
      data: {
        stream: t.stream("calls"),
        consumer: t.consumer("summary").durable,
        subject: t.subject("callTranscribed"),
        streamSequence: 1_000_000n,
        headers: { traceparent: ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"] },
        payload: new Uint8Array(payload),
        deliveryCount: 5,
        reason: "max_deliveries",
        errorCode: "llm_timeout",
        errorMessage: "no answer within 60 s",
        entityType: "call",
        entityId: callId,
        tenantId,
      },
    });

    await signIn(page, consoleStack.url, consoleStack.adminKey);
    await page.goto(`${consoleStack.url}/console/operations/dead-letters`);
    const item = page.locator(`li[data-dead-letter-id="${letter.id}"]`);
    await item.waitFor();
    expect(await item.textContent()).toMatch(/callTranscribed.*max deliveries after 5 deliveries.*llm_timeout no answer within 60 s/);
    await item.getByText("Payload").click();
    expect(await item.locator("pre").first().textContent()).toContain(`"callId": "${callId}"`);

    await item.getByRole("button", { name: `Replay dead letter ${letter.id}` }).click();
    const replayed = item.getByText(/Replayed: published again as stream sequence \d+\./);
    await replayed.waitFor();
    const sequence = Number(/sequence (\d+)/.exec((await replayed.textContent()) ?? "")![1]);
    expect(await database.db.deadLetter.findUniqueOrThrow({ where: { id: letter.id } })).toMatchObject({ replayCount: 1 });
    const jsm = await jetstreamManager(messaging.nats);
    const message = await jsm.streams.getMessage(t.stream("calls"), { seq: sequence });
    expect(message?.subject).toBe(t.subject("callTranscribed"));
    expect(message?.header.get("Nats-Msg-Id")).toBe(`${letter.id}:replay:1`);
    expect(Buffer.from(message!.data)).toEqual(Buffer.from(payload));
    await waitFor("the list to show the replay", async () => /replayed 1 time\b/.test((await item.textContent()) ?? ""));
  });

  test("the charts read the admin metrics endpoint for the chosen time range", async ({ consoleStack, page }) => {
    const { db } = consoleStack.database;
    const created = ago(5 * MINUTE);
    await db.call.create({ data: { tenantId: consoleStack.tenantId, source: "upload", status: "completed", createdAt: created, completedAt: ago(4 * MINUTE) } });
    const asked: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/v1/admin/metrics")) asked.push(request.url());
    });

    await signIn(page, consoleStack.url, consoleStack.adminKey);
    await page.getByRole("link", { name: "Operations" }).click();
    await page.getByRole("figure", { name: /Calls per minute/ }).waitFor();
    for (const name of [/Calls per minute/, /Stage latency p99/, /Consumer lag/]) expect(await page.getByRole("figure", { name }).locator("svg path.line").count()).toBe(3);
    expect(new URL(asked[0]!).searchParams.get("stepSeconds")).toBe("60");

    await page.getByLabel("Time range").selectOption({ label: "last 24 hours" });
    await expect.poll(() => asked.length).toBe(2);
    const from = Date.parse(new URL(asked[1]!).searchParams.get("from")!);
    expect(Math.abs(Date.now() - 24 * 3_600_000 - from)).toBeLessThan(60_000);
    // The table under the chart: calls created per minute in 15-minute buckets add up to the day's calls.
    await page.getByRole("figure", { name: /Calls per minute/ }).getByText("Numbers").click();
    const cells = await page.getByRole("figure", { name: /Calls per minute/ }).locator("tbody td:nth-child(2)").allTextContents();
    const calls = await db.call.count({ where: { createdAt: { gte: ago(24 * 60 * MINUTE) } } });
    expect(calls).toBeGreaterThan(0);
    expect(cells.reduce((sum, cell) => sum + Number(cell) * 15, 0)).toBeCloseTo(calls, 0);
  });

  test("a key without the admin scope sees no operations pages, and the API refuses them anyway", async ({ consoleStack, page }) => {
    const key = await consoleStack.createKey([]);
    const admin: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/v1/admin")) admin.push(request.url());
    });

    await signIn(page, consoleStack.url, key);
    expect(await page.getByRole("navigation", { name: "Console" }).getByRole("link").allTextContents()).toEqual(["Calls", "Dials"]);
    await page.goto(`${consoleStack.url}/console/operations/dead-letters`);
    await page.getByRole("heading", { level: 1, name: "Operations" }).waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(/need an API key with the admin scope/);
    expect(admin).toEqual([]);

    const api = apiWith(consoleStack.url, key);
    for (const [method, path] of [
      ["GET", "/v1/admin/stuck"],
      ["POST", "/v1/admin/reaper/sweep"],
      ["GET", "/v1/admin/dead-letters"],
      ["GET", "/v1/admin/audit"],
      ["GET", "/v1/admin/metrics"],
    ] as const) {
      const response = await api(path, method === "POST" ? { method, headers: { "content-type": "application/json" }, body: "{}" } : {});
      expect(response.status, path).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: "insufficient_scope" } });
    }
  });
});
