import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ADMIN_SCOPE, createApiKey, ingestConfigFromEnv, start } from "@callflow/ingest";
import { describe, expect, freePort, test } from "@callflow/testkit";
import { pipelineEnv } from "./support/pipeline-env.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MINUTE = 60_000;

/** `pnpm callflow <args>` as a person runs it, against `api`; never throws, answers the exit code and output. */
const callflow = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const env = { ...process.env };
    delete env.CALLFLOW_API_KEY;
    delete env.CALLFLOW_DEV_API_KEY;
    execFile("pnpm", ["--silent", "callflow", ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });

describe("callflow stuck and callflow dead-letters", () => {
  test(
    "print the admin API's overdue work and dead letters as tables (or its JSON), and exit 1 naming the API's refusal",
    async ({ database, messaging, storage }) => {
      const { db } = database;
      const port = await freePort();
      const api = await start(ingestConfigFromEnv({ ...pipelineEnv(database, messaging, storage), CALLFLOW_INGEST_PORT: String(port) }));
      try {
        const tenant = await db.tenant.create({ data: { name: "cli lists" } });
        const admin = (await createApiKey(db, { tenantId: tenant.id, name: "operator", scopes: [ADMIN_SCOPE] })).key;
        const plain = (await createApiKey(db, { tenantId: tenant.id, name: "customer", scopes: [] })).key;
        const list = (command: string, ...extra: string[]) => callflow([command, "--api", api.url, ...extra]);

        // Nothing yet: each says so, exit 0.
        expect(await list("stuck", "--key", admin)).toMatchObject({ code: 0, stdout: "Nothing is past its deadline.\n" });
        expect(await list("dead-letters", "--key", admin)).toMatchObject({ code: 0, stdout: "No dead letters.\n" });

        // A chunk queued 20 minutes ago that no worker took, and a dead letter for another chunk.
        const at = new Date(Date.now() - 20 * MINUTE);
        const call = await db.call.create({ data: { tenantId: tenant.id, source: "upload", status: "processing", uploadFinishedAt: at, expectedChunkCount: 1, createdAt: at } });
        await db.stageRun.create({ data: { tenantId: tenant.id, callId: call.id, stage: "transcription", status: "queued", createdAt: at, updatedAt: at } });
        const chunk = await db.chunk.create({
          data: { tenantId: tenant.id, callId: call.id, index: 0, objectKey: `tenants/${tenant.id}/calls/${call.id}/v1/chunks/0.wav`, status: "queued", createdAt: at, updatedAt: at },
        });
        const letter = await db.deadLetter.create({
          data: {
            stream: `${messaging.namespace}_calls`,
            consumer: "transcription",
            subject: `${messaging.namespace}.calls.transcribe.ready`,
            streamSequence: 42n,
            payload: Buffer.from([1, 2, 3]),
            deliveryCount: 6,
            reason: "max_deliveries",
            errorCode: "provider_unavailable",
            errorMessage: "openai answered 503",
            entityType: "chunk",
            entityId: chunk.id,
            tenantId: tenant.id,
            createdAt: new Date(Date.now() - 5 * MINUTE),
          },
        });

        const stuck = await list("stuck", "--key", admin);
        expect(stuck.code, stuck.stderr).toBe(0);
        const [header, row, ...rest] = stuck.stdout.trimEnd().split("\n");
        expect(header).toMatch(/^STAGE\s+ENTITY\s+CALL\s+STATUS\s+SINCE\s+REASON$/);
        expect(row).toMatch(new RegExp(`^transcription\\s+chunk ${chunk.id}\\s+${call.id}\\s+queued \\(attempt 0\\)\\s+2\\d min ago\\s+queued_unclaimed$`));
        expect(rest).toEqual([]);
        const stuckJson = JSON.parse((await list("stuck", "--key", admin, "--json")).stdout) as { items: { entityId: string; reason: string }[] };
        expect(stuckJson.items).toEqual([expect.objectContaining({ entityId: chunk.id, reason: "queued_unclaimed" })]);

        const letters = await list("dead-letters", "--key", admin);
        expect(letters.code, letters.stderr).toBe(0);
        const lines = letters.stdout.trimEnd().split("\n");
        expect(lines[0]).toMatch(/^ID\s+CONSUMER\s+ENTITY\s+REASON\s+WHEN\s+REPLAYED\s+ERROR$/);
        expect(lines.slice(1)).toEqual([
          expect.stringMatching(new RegExp(`^${letter.id}\\s+transcription\\s+chunk ${chunk.id}\\s+max_deliveries after 6\\s+\\d min ago\\s+no\\s+provider_unavailable: openai answered 503$`)),
        ]);
        const lettersJson = JSON.parse((await list("dead-letters", "--key", admin, "--json")).stdout) as { items: { id: string }[] };
        expect(lettersJson.items.map((item) => item.id)).toEqual([letter.id]);

        // A key without the admin scope: the API's refusal on stderr, exit 1, no table.
        for (const command of ["stuck", "dead-letters"]) {
          const refused = await list(command, "--key", plain);
          expect(refused.code).toBe(1);
          expect(refused.stdout).toBe("");
          expect(refused.stderr).toMatch(/^callflow: 403 insufficient_scope: this operation needs the "admin" scope$/m);
        }
        // No key at all: told how to get one.
        const keyless = await list("stuck");
        expect(keyless.code).toBe(1);
        expect(keyless.stderr).toMatch(/no API key/);
      } finally {
        await api.stop();
      }
    },
    300_000,
  );
});
