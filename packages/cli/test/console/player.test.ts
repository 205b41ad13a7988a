import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import type { Page, Request } from "playwright-core";
import { describe, expect, signIn, test, type ConsoleStack } from "./support/console-stack.ts";

const run = promisify(execFile);

/** A WAV of `seconds` of tone, as a merged recording would be stored. */
const toneWav = async (seconds: number): Promise<Buffer> => {
  const dir = await mkdtemp(path.join(tmpdir(), "console-player-"));
  try {
    const file = path.join(dir, "tone.wav");
    await run("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", file, "synth", String(seconds), "sine", "440"]);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

const ago = (ms: number) => new Date(Date.now() - ms);

/** Every request for the call's recording, from the page and from its service worker, with its time. */
const recordingRequests = (page: Page, callId: string) => {
  const seen: { at: number; request: Request }[] = [];
  page.context().on("request", (request) => {
    if (new URL(request.url()).pathname === `/v1/calls/${callId}/recording`) seen.push({ at: Date.now(), request });
  });
  return {
    seen,
    fromPage: () => seen.filter((entry) => entry.request.serviceWorker() === null),
    fromWorker: () => seen.filter((entry) => entry.request.serviceWorker() !== null),
  };
};

/**
 * The player's whole point is what it does not do: ask again. After its final answer the page is
 * watched for this long, and any further request for the recording fails the test. A fixed wait on
 * purpose: the behaviour under test is an absence, which no condition can signal, so a window of
 * watching is the only way to see it.
 */
const QUIET_MS = 5_000;
const quietPeriod = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

const openCall = async (page: Page, stack: ConsoleStack, callId: string) => {
  await signIn(page, stack.url, stack.adminKey);
  await page.goto(`${stack.url}/console/calls/${callId}`);
  await page.getByRole("heading", { level: 1, name: new RegExp(callId) }).waitFor();
};

const player = (page: Page) => page.locator(".player");

// The first test of the file also waits for the stack to start (and the console to be built once).
describe("the recording player follows the API's contract and never loops", { timeout: 180_000 }, () => {
  test("200: streams the recording through the worker with Range requests, seeks, and asks nothing more", async ({ consoleStack, page }) => {
    const { database, storage, tenantId } = consoleStack;
    const audio = await toneWav(120);
    const call = await database.db.call.create({ data: { tenantId, source: "upload", status: "completed", durationSeconds: 120, completedAt: new Date() } });
    const objectKey = `tenants/${tenantId}/calls/${call.id}/v1/recording.wav`;
    await storage.store.putStream(objectKey, Readable.from(audio), { contentType: "audio/wav" });
    await database.db.mergedRecording.create({
      data: { tenantId, callId: call.id, audioVersion: 1, objectKey, durationSeconds: 120, sizeBytes: audio.length, codec: "pcm_s16le", inputs: [], verifiedAt: new Date() },
    });
    const requests = recordingRequests(page, call.id);

    await openCall(page, consoleStack, call.id);
    const element = page.locator(".player audio");
    await expect.poll(() => element.evaluate((audio: HTMLAudioElement) => audio.duration), { timeout: 20_000 }).toBeCloseTo(120, 0);
    await element.evaluate((audio: HTMLAudioElement) => {
      audio.currentTime = 100;
      return audio.play();
    });
    await expect.poll(() => element.evaluate((audio: HTMLAudioElement) => audio.currentTime), { timeout: 20_000 }).toBeGreaterThan(100);
    await element.evaluate((audio: HTMLAudioElement) => audio.pause());

    // The page asked once (one byte, 206); the element's requests went through the worker, which sent
    // the key as a header; one of them started past the beginning: the seek.
    const [probe, ...media] = requests.fromPage();
    expect(probe!.request.headers().range).toBe("bytes=0-0");
    expect((await probe!.request.response())?.status()).toBe(206);
    expect(media.length).toBeGreaterThan(0);
    for (const entry of media) expect((await entry.request.response())?.fromServiceWorker()).toBe(true);
    const worker = requests.fromWorker();
    expect(worker.length).toBeGreaterThan(0);
    for (const entry of worker) expect((await entry.request.allHeaders()).authorization).toBe(`Bearer ${consoleStack.adminKey}`);
    const starts = worker.map((entry) => Number(/^bytes=(\d+)-/.exec(entry.request.headers().range ?? "")?.[1] ?? 0));
    expect(Math.max(...starts)).toBeGreaterThan(audio.length / 2);
    for (const entry of requests.seen) expect(entry.request.url()).not.toContain(consoleStack.adminKey);

    const settled = requests.seen.length;
    await quietPeriod();
    expect(requests.seen.length).toBe(settled);
  });

  test("202: shows the body's attempt, asks again only after each Retry-After, and never sooner", async ({ consoleStack, page }) => {
    const { database, tenantId } = consoleStack;
    const at = ago(60_000);
    const call = await database.db.call.create({
      data: { tenantId, source: "upload", status: "processing", durationSeconds: 3, uploadFinishedAt: at, expectedChunkCount: 1, createdAt: at },
    });
    await database.db.stageRun.create({ data: { tenantId, callId: call.id, stage: "transcription", status: "queued", createdAt: at } });
    const chunk = await database.db.chunk.create({
      data: { tenantId, callId: call.id, index: 0, objectKey: `tenants/${tenantId}/calls/${call.id}/v1/chunks/0.wav`, status: "queued", durationSeconds: 3, createdAt: at },
    });
    // The reaper re-drove the chunk once: the work under way is attempt 2 of 3.
    await database.db.auditEntry.create({ data: { actor: "reaper", action: "chunk.redrive", entityType: "chunk", entityId: chunk.id, tenantId, reason: "queued_unclaimed" } });
    const requests = recordingRequests(page, call.id);

    await openCall(page, consoleStack, call.id);
    await expect.poll(() => player(page).textContent()).toMatch(/The recording is being prepared \(attempt 2\/3\b.*\)\. Asking again in \d+ s\./);
    await expect.poll(() => requests.seen.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);

    const retryAfter = Number((await requests.seen[0]!.request.response())?.headers()["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    for (const [index, entry] of requests.seen.entries()) {
      expect((await entry.request.response())?.status()).toBe(202);
      if (index > 0) expect(entry.at - requests.seen[index - 1]!.at).toBeGreaterThanOrEqual(retryAfter * 1000 - 50);
    }
    const watched = Date.now() - requests.seen[0]!.at;
    expect(requests.seen.length).toBeLessThanOrEqual(Math.floor(watched / (retryAfter * 1000)) + 1);
  });

  test("404: says there is no recording for this call and stops", async ({ consoleStack, page }) => {
    const { database, tenantId } = consoleStack;
    const call = await database.db.call.create({ data: { tenantId, source: "upload", status: "completed", completedAt: new Date() } });
    const requests = recordingRequests(page, call.id);

    await openCall(page, consoleStack, call.id);
    await expect.poll(() => player(page).textContent()).toMatch(/No recording for this call/);
    expect(await player(page).locator("audio").count()).toBe(0);
    await quietPeriod();
    expect(requests.seen.length).toBe(1);
    expect((await requests.seen[0]!.request.response())?.status()).toBe(404);
  });

  test("a terminal error: shows its code and message and stops", async ({ consoleStack, page }) => {
    const { database, tenantId } = consoleStack;
    const failure = { errorCode: "merge_duration_mismatch", errorMessage: "the merged file is 2.1 s, its inputs 9.0 s" };
    const call = await database.db.call.create({ data: { tenantId, source: "upload", status: "failed", failedStage: "merge", ...failure } });
    await database.db.stageRun.create({ data: { tenantId, callId: call.id, stage: "merge", status: "failed", attempt: 3, finishedAt: new Date(), ...failure } });
    const requests = recordingRequests(page, call.id);

    await openCall(page, consoleStack, call.id);
    await expect.poll(() => player(page).textContent()).toMatch(/No recording: merge_duration_mismatch the merged file is 2\.1 s, its inputs 9\.0 s/);
    await quietPeriod();
    expect(requests.seen.length).toBe(1);
    expect((await requests.seen[0]!.request.response())?.status()).toBe(500);
  });
});
