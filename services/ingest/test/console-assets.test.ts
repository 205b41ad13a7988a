import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, startIngestUnderTest, test as ingestTest } from "./support/ingest-fixture.ts";

const PAGE = "<!doctype html><title>console</title>";

const test = ingestTest.extend<{ consoleDir: string }>({
  consoleDir: async ({}, use) => {
    const dir = await mkdtemp(path.join(tmpdir(), "console-assets-"));
    await mkdir(path.join(dir, "assets"));
    await writeFile(path.join(dir, "index.html"), PAGE);
    await writeFile(path.join(dir, "assets", "page-abc123.js"), "console.log(1)");
    await writeFile(path.join(dir, "recording-worker.js"), "self.x = 1");
    try {
      await use(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

describe("the console at /console", () => {
  test("serves the page for every path under /console without a key, its assets by name, and no other file", async ({ consoleDir, database, messaging, storage }) => {
    const ingest = await startIngestUnderTest({ database, messaging, storage }, { CALLFLOW_INGEST_CONSOLE_DIR: consoleDir });
    try {
      const get = (route: string) => fetch(`${ingest.url}${route}`, { redirect: "manual" });
      const bare = await get("/console");
      expect(bare.status).toBe(308);
      expect(bare.headers.get("location")).toBe("/console/");

      for (const route of ["/console/", "/console/calls/0b3c8f9e-1111-4222-8333-944445555666", "/console/operations/dead-letters", "/console/index.html"]) {
        const page = await get(route);
        expect(page.status, route).toBe(200);
        expect(await page.text()).toBe(PAGE);
        expect(page.headers.get("content-type")).toMatch(/^text\/html/);
        expect(page.headers.get("cache-control")).toBe("no-cache");
        expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'; .*frame-ancestors 'none'/);
      }
      const script = await get("/console/assets/page-abc123.js");
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toMatch(/javascript/);
      expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await get("/console/recording-worker.js")).headers.get("cache-control")).toBe("no-cache");
      // Only built files: a path that climbs out of the folder is just another page path.
      expect(await (await get("/console/..%2f..%2fpackage.json")).text()).toBe(PAGE);
      // The API is unchanged around it: still JSON, still behind the key, and /console is not in its document.
      expect((await get("/v1/calls")).status).toBe(401);
      const document = (await (await get("/docs/json")).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(document.paths).filter((route) => route.startsWith("/console"))).toEqual([]);
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/v1/me", "/v1/admin/metrics"]));
    } finally {
      await ingest.stop();
    }
  });

  test("without built assets, says how to build them", async ({ consoleDir, database, messaging, storage }) => {
    const ingest = await startIngestUnderTest({ database, messaging, storage }, { CALLFLOW_INGEST_CONSOLE_DIR: path.join(consoleDir, "missing") });
    try {
      const answer = await fetch(`${ingest.url}/console/calls`);
      expect(answer.status).toBe(503);
      expect(await answer.text()).toMatch(/The console is not built: run `pnpm build`/);
    } finally {
      await ingest.stop();
    }
  });
});
