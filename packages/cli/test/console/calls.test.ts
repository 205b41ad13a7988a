import { readFile } from "node:fs/promises";
import { waitFor } from "@callflow/testkit";
import { synthesizeCall } from "../../src/sample-call.ts";
import { apiWith, describe, expect, signIn, test } from "./support/console-stack.ts";

const SHORT_CALL = [
  { speaker: "agent", text: "Hello, thank you for calling the support line. How can I help you today?" },
  { speaker: "caller", text: "My internet connection has been dropping every evening. Please call me back tomorrow." },
] as const;

// The first test of the file also waits for the stack to start (and the console to be built once).
describe("the console: signing in and following calls", { timeout: 180_000 }, () => {
  test("signs in with a key, refuses a wrong one with a clear error, and never puts the key in a URL", async ({ consoleStack, page }) => {
    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));

    await page.goto(`${consoleStack.url}/console/`);
    await page.getByLabel("API key").fill("cf_not-a-key-of-anyone");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/unknown or revoked/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await page.getByLabel("API key").fill(consoleStack.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Calls" }).waitFor();
    expect(await page.locator("header").textContent()).toContain("development");

    // A reload keeps the session (session storage); signing out forgets the key.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Calls" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    expect(urls.length).toBeGreaterThan(3);
    expect(urls.filter((url) => url.includes(consoleStack.adminKey))).toEqual([]);
  });

  test(
    "an uploaded call's row goes from uploading to completed without a reload, and its page shows the transcript and the summary",
    async ({ consoleStack, page }) => {
      const sample = await synthesizeCall(SHORT_CALL.map((turn) => ({ ...turn })));
      try {
        await signIn(page, consoleStack.url, consoleStack.adminKey);
        const api = apiWith(consoleStack.url, consoleStack.adminKey);
        // A recorder call: open now, its audio sent later, so the row is seen before any work starts.
        const opened = (await (await api("/v1/calls/recorder", { method: "POST" })).json()) as { id: string };
        const row = page.locator(`tr[data-call-id="${opened.id}"]`);
        await row.waitFor();
        // Every phase the row shows from here on, in order, recorded by the page itself.
        await page.evaluate((id) => {
          const seen: string[] = [];
          (window as unknown as { seenPhases: string[] }).seenPhases = seen;
          const read = () => {
            const text = document.querySelector(`tr[data-call-id="${id}"] td.phase`)?.textContent ?? "";
            if (text && seen.at(-1) !== text) seen.push(text);
          };
          read();
          new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
        }, opened.id);
        const loadedAt = await page.evaluate(() => performance.timeOrigin);

        for (const [index, file] of sample.turns.entries()) {
          const sent = await api(`/v1/calls/${opened.id}/chunks?index=${index}`, { method: "POST", body: await readFile(file), headers: { "content-type": "audio/wav" } });
          expect(sent.status).toBe(202);
        }
        expect((await api(`/v1/calls/${opened.id}/finish`, { method: "POST" })).status).toBe(202);

        await expect.poll(() => row.locator("td.phase").textContent(), { timeout: 180_000, interval: 250 }).toBe("completed");
        const seen = await page.evaluate(() => (window as unknown as { seenPhases: string[] }).seenPhases);
        expect(seen[0]).toBe("uploading");
        expect(seen.at(-1)).toBe("completed");
        expect(seen.length).toBeGreaterThanOrEqual(3);
        const order = ["uploading", "uploaded", "transcribing", "summarizing", "merging", "completed"];
        expect(seen.map((phase) => order.indexOf(phase))).toEqual([...seen.map((phase) => order.indexOf(phase))].sort((a, b) => a - b));
        expect(await page.evaluate(() => performance.timeOrigin)).toBe(loadedAt);

        await row.getByRole("link").click();
        await page.getByRole("heading", { level: 1, name: new RegExp(`Call ${opened.id}`) }).waitFor();
        const transcript = page.locator("ol.transcript li");
        await expect.poll(() => transcript.count(), { timeout: 30_000 }).toBeGreaterThan(0);
        expect(await transcript.first().locator(".offset").textContent()).toMatch(/^\d+:\d\d–\d+:\d\d$/);
        expect((await page.locator("ol.transcript").textContent())?.toLowerCase()).toMatch(/call|help|internet|connection|evening/);
        await page.locator(".summary-text").waitFor();
        expect((await page.locator(".summary-text").textContent())?.length).toBeGreaterThan(10);
        expect(await page.getByRole("heading", { name: "Extracted fields" }).count()).toBe(1);
        // The stage timeline: each stage succeeded on its first attempt.
        const stages = await page.locator("table:has(caption:text('Stage runs')) tbody tr").allTextContents();
        for (const stage of ["transcription", "merge", "summary"]) expect(stages.find((text) => text.startsWith(stage))).toMatch(/succeeded/);
        // The recording is there to play, and a segment's time plays it from there.
        await page.locator("audio").waitFor();
        await expect.poll(() => page.locator("audio").evaluate((audio: HTMLAudioElement) => audio.duration), { timeout: 20_000 }).toBeGreaterThan(3);
      } finally {
        await sample.cleanup();
      }
    },
    300_000,
  );

  test("a dial placed from the form shows the API's validation error, then its timeline to the carrier's answer", async ({ consoleStack, page }) => {
    await signIn(page, consoleStack.url, consoleStack.adminKey);
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Dials" }).click();
    await page.getByRole("heading", { level: 1, name: "Dials" }).waitFor();

    const to = page.getByLabel("To (international number)");
    await to.fill("+15550000001");
    await page.getByRole("button", { name: "Place dial" }).click();
    const refusal = page.getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/^The dial was refused: invalid_number .*"\+15550000001"/);
    expect(await to.getAttribute("aria-invalid")).toBe("true");

    await to.fill("+14155550001");
    await page.getByRole("button", { name: "Place dial" }).click();
    await page.getByRole("heading", { level: 1, name: /Dial to \+14155550001/ }).waitFor();
    const timeline = page.locator("table:has(caption:text('Every status')) tbody th");
    await expect.poll(() => timeline.allTextContents(), { timeout: 120_000, interval: 500 }).toContain("completed");
    const statuses = await timeline.allTextContents();
    expect(statuses.slice(0, 3)).toEqual(["queued", "placing", "placed"]);
    expect(statuses).toContain("ringing");
  }, 180_000);
});
