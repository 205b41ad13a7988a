import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createApiKey } from "@callflow/ingest";
import {
  describe,
  expect,
  freePort,
  spawnService,
  startFakeOpenAi,
  startFakeOpenAiChat,
  stopService,
  test,
  waitFor,
  waitReady,
  type ServiceProcess,
} from "@callflow/testkit";
import { pipelineEnv } from "./support/pipeline-env.ts";

const run = promisify(execFile);

/**
 * Words no log line has a reason to contain: if one shows up in a service's output, transcript or
 * summary text leaked into a log.
 */
const DISTINCTIVE = ["zanzibar", "marmalade", "quokka", "periwinkle", "saxophone"];
/** What the recogniser "heard": the distinctive words, and PII of every kind. */
const SPOKEN = [
  { start: 0, end: 3, text: "Hello, my name is Maria Gonzalez and my zanzibar marmalade order never arrived." },
  { start: 3, end: 6, text: "Call me back on 555-010-2345 or write to maria.gonzalez@example.com." },
  { start: 6, end: 9, text: "The quokka periwinkle saxophone was paid with card 4111 1111 1111 1111 on account number 88442211." },
];
const SPOKEN_TEXT = SPOKEN.map((segment) => segment.text).join(" ");
const PII = ["Maria", "Gonzalez", "555-010-2345", "example.com", "4111", "88442211"];

const WORKERS = ["transcription", "aggregator", "merge", "summary"] as const;

describe("a call's words stay out of the logs, and its PII out of a redacted call's artifacts", () => {
  test(
    "two calls through every service at log level trace: the per-call override wins over the tenant's redaction, and no service logs a word of either transcript or summary",
    async ({ database, messaging, storage }) => {
      const transcriber = await startFakeOpenAi({ apiKey: "stt-key", transcript: () => ({ segments: SPOKEN }) });
      // The LLM first answers something that is not JSON (quoting the call), then a summary quoting the transcript it was sent.
      const llm = await startFakeOpenAiChat({
        apiKey: "llm-key",
        answer: (request) => {
          const said = request.messages.at(-1)!.content;
          return {
            summary: `The caller said: ${said.slice(0, 300)}`,
            keyPoints: [said.slice(0, 120)],
            actionItems: ["Call back about the zanzibar marmalade order"],
            sentiment: "negative",
            fields: { callerName: "Maria Gonzalez", intent: "order problem", followUpDate: null, callbackNumber: "555-010-2345" },
          };
        },
      });
      llm.script({ kind: "content", content: "Sure! The zanzibar marmalade quokka call: {" });
      const dir = await mkdtemp(join(tmpdir(), "callflow-privacy-"));
      const services: ServiceProcess[] = [];
      // Every byte each service writes, stdout and stderr (ServiceProcess.output keeps only the tail).
      const written = new Map<string, string[]>();
      const spawn = (name: string, env: Record<string, string>) => {
        const service = spawnService(name, env);
        const parts: string[] = [];
        written.set(name, parts);
        service.child.stdout?.on("data", (data: Buffer) => parts.push(data.toString()));
        service.child.stderr?.on("data", (data: Buffer) => parts.push(data.toString()));
        services.push(service);
        return service;
      };
      try {
        const audio = join(dir, "call.wav");
        await run("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", audio, "synth", "3", "sine", "440"]);
        const tenant = await database.db.tenant.create({ data: { name: "privacy", redactPii: true } });
        const { key } = await createApiKey(database.db, { tenantId: tenant.id, name: "privacy", scopes: [] });
        const apiPort = await freePort();
        const env = {
          ...pipelineEnv(database, messaging, storage),
          CALLFLOW_LOG_LEVEL: "trace",
          CALLFLOW_INGEST_PORT: String(apiPort),
          CALLFLOW_TRANSCRIPTION_PROVIDER: "openai",
          CALLFLOW_OPENAI_BASE_URL: transcriber.baseURL,
          CALLFLOW_OPENAI_API_KEY: "stt-key",
          CALLFLOW_SUMMARY_PROVIDER: "openai",
          CALLFLOW_SUMMARY_OPENAI_BASE_URL: llm.baseURL,
          CALLFLOW_SUMMARY_OPENAI_API_KEY: "llm-key",
          CALLFLOW_SUMMARY_OPENAI_MAX_ATTEMPTS: "3",
        };
        const api = `http://127.0.0.1:${apiPort}`;
        const ready = [waitReady(spawn("ingest", env), `${api}/readyz`)];
        for (const name of WORKERS) {
          const port = await freePort();
          ready.push(waitReady(spawn(name, { ...env, [`CALLFLOW_${name.toUpperCase()}_OPS_PORT`]: String(port) }), `http://127.0.0.1:${port}/readyz`));
        }
        await Promise.all(ready);

        const call = (path: string, init: RequestInit = {}) => fetch(`${api}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
        const upload = async (query: string) => {
          const answer = await call(`/v1/calls${query}`, { method: "POST", body: await readFile(audio), headers: { "content-type": "audio/wav" } });
          expect(answer.status, await answer.clone().text()).toBe(202);
          return ((await answer.json()) as { id: string }).id;
        };
        const kept = await upload("?redactPii=false");
        const redacted = await upload("");
        for (const id of [kept, redacted]) {
          const finished = await waitFor(
            `call ${id} to become terminal`,
            async () => {
              const body = (await (await call(`/v1/calls/${id}`)).json()) as { status: string };
              return body.status === "completed" || body.status === "failed" ? body : undefined;
            },
            { timeoutMs: 120_000, intervalMs: 250 },
          ).catch((error: Error) => {
            throw new Error(`${error.message}\n${services.map((service) => `--- ${service.name} ---\n${service.output().slice(-3_000)}`).join("\n")}`);
          });
          expect(finished, JSON.stringify(finished)).toMatchObject({ status: "completed", redactPii: id === redacted });
        }
        const artifacts = async (id: string) => ({
          transcript: ((await (await call(`/v1/calls/${id}/transcript`)).json()) as { text: string }).text,
          summary: JSON.stringify(((await (await call(`/v1/calls/${id}/summary`)).json()) as { content: unknown }).content),
        });

        // The override (false) won over the tenant's setting (true): stored as the provider said it.
        const plain = await artifacts(kept);
        expect(plain.transcript).toBe(SPOKEN_TEXT);
        for (const pii of ["Maria Gonzalez", "555-010-2345"]) expect(plain.summary).toContain(pii);

        // The tenant's setting: no PII in the transcript, nor in the summary made from it.
        const clean = await artifacts(redacted);
        expect(clean.transcript).toBe(
          "Hello, my name is [PERSON_NAME] and my zanzibar marmalade order never arrived. Call me back on [PHONE_NUMBER] or write to [EMAIL_ADDRESS]. " +
            "The quokka periwinkle saxophone was paid with card [CREDIT_CARD_NUMBER] on account number [ACCOUNT_NUMBER].",
        );
        for (const pii of PII) expect(`${clean.transcript} ${clean.summary}`).not.toContain(pii);
        // The LLM was sent the redacted transcript, not the original.
        expect(llm.requests.some((request) => request.messages.some((message) => message.content.includes("[PERSON_NAME]")))).toBe(true);
      } finally {
        const codes = await Promise.all(services.map((service) => stopService(service)));
        await transcriber.close();
        await llm.close();
        await rm(dir, { recursive: true, force: true });
        expect(codes.every((code) => code === 0), `exit codes ${codes.join(", ")}`).toBe(true);
      }

      for (const [name, parts] of written) {
        const output = parts.join("");
        // The logs were there to read: every service wrote JSON lines at this level.
        expect(output.split("\n").filter((line) => line.startsWith("{")).length, `${name} wrote no log lines`).toBeGreaterThan(0);
        for (const word of [...DISTINCTIVE, ...PII]) {
          const at = output.toLowerCase().indexOf(word.toLowerCase());
          expect(at, `${name} logged "${word}": ${output.slice(Math.max(0, at - 300), at + 200)}`).toBe(-1);
        }
      }
    },
    300_000,
  );
});
