import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody, ReplyScript, sendJson, type ScriptedReply } from "./scripted-replies.ts";

/**
 * A local server speaking AssemblyAI's v2 REST API: `POST /v2/upload`, `POST /v2/transcript` (with
 * webhook_url and webhook auth header, PII redaction options), `GET /v2/transcript/{id}`, and the
 * completion webhook `{transcript_id, status}` sent with the auth header. Knobs: scripted 429/5xx/4xx
 * and hangs per route, job failure, processing time, and how many times the webhook is delivered
 * (0: never, 3: three times).
 */

export interface FakeAssemblyAiWord {
  text: string;
  /** Milliseconds, as AssemblyAI reports them. */
  start: number;
  end: number;
  confidence: number;
}

export interface FakeAssemblyAiJob {
  id: string;
  params: Record<string, unknown>;
  status: "queued" | "processing" | "completed" | "error";
  uploadedBytes: number;
  polls: number;
  webhookDeliveries: { status: number | "unreachable"; at: number }[];
  error?: string;
}

export interface FakeAssemblyAiOptions {
  apiKey: string;
  /** Milliseconds from submission to completion; default 50. */
  processingMs?: number;
  /** How many times the completion webhook is sent; default 1. */
  webhookDeliveries?: number;
  /** When set, jobs end in status "error" with this message. */
  jobError?: string;
  /** The words of a completed job; default "hello from the fake provider". */
  words?: (job: FakeAssemblyAiJob) => FakeAssemblyAiWord[];
}

export interface FakeAssemblyAi {
  readonly baseUrl: string;
  readonly jobs: Map<string, FakeAssemblyAiJob>;
  /** Settings that may change between steps of a test. */
  readonly settings: { processingMs: number; webhookDeliveries: number; jobError: string | undefined };
  script(route: "upload" | "submit" | "get", ...replies: ScriptedReply[]): void;
  /** Resolves when every webhook delivery started so far has been answered. */
  webhooksSettled(): Promise<void>;
  close(): Promise<void>;
}

const defaultWords = (): FakeAssemblyAiWord[] =>
  "hello from the fake provider".split(" ").map((text, i) => ({ text, start: i * 300, end: i * 300 + 250, confidence: 0.95 }));

const redact = (text: string, substitution: unknown): string =>
  text.replace(/\d[\d\s-]{5,}\d/g, (match) => (substitution === "entity_name" ? "[PHONE_NUMBER]" : "#".repeat(match.length)));

export async function startFakeAssemblyAi(options: FakeAssemblyAiOptions): Promise<FakeAssemblyAi> {
  const script = new ReplyScript<"upload" | "submit" | "get">();
  const jobs = new Map<string, FakeAssemblyAiJob>();
  const uploads = new Map<string, number>();
  const settings = {
    processingMs: options.processingMs ?? 50,
    webhookDeliveries: options.webhookDeliveries ?? 1,
    jobError: options.jobError,
  };
  const deliveries = new Set<Promise<void>>();
  let baseUrl = "";

  const apiError = (res: ServerResponse, status: number, message: string, retryAfterSeconds?: number) =>
    sendJson(res, status, { error: message }, retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) });

  const view = (job: FakeAssemblyAiJob) => {
    const params = job.params;
    const completed = job.status === "completed";
    const words = completed ? (options.words ?? defaultWords)(job) : null;
    const rawText = words?.map((w) => w.text).join(" ") ?? null;
    const text = rawText !== null && params.redact_pii === true ? redact(rawText, params.redact_pii_sub) : rawText;
    return {
      id: job.id,
      status: job.status,
      audio_url: params.audio_url,
      language_code: params.language_code ?? "en_us",
      speech_model: params.speech_model ?? "best",
      text,
      words: words && params.redact_pii === true ? words.map((w) => ({ ...w, text: redact(w.text, params.redact_pii_sub) })) : words,
      confidence: completed ? 0.95 : null,
      audio_duration: words ? Math.ceil((words.at(-1)?.end ?? 0) / 1000) : null,
      punctuate: true,
      format_text: true,
      webhook_url: params.webhook_url ?? null,
      webhook_auth: typeof params.webhook_auth_header_name === "string",
      webhook_auth_header_name: params.webhook_auth_header_name ?? null,
      webhook_status_code: job.webhookDeliveries.at(-1)?.status ?? null,
      redact_pii: params.redact_pii === true,
      redact_pii_policies: params.redact_pii_policies ?? null,
      redact_pii_sub: params.redact_pii_sub ?? null,
      error: job.error,
    };
  };

  const deliverWebhook = async (job: FakeAssemblyAiJob): Promise<void> => {
    const url = job.params.webhook_url;
    if (typeof url !== "string") return;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (typeof job.params.webhook_auth_header_name === "string" && typeof job.params.webhook_auth_header_value === "string") {
      headers[job.params.webhook_auth_header_name] = job.params.webhook_auth_header_value;
    }
    for (let i = 0; i < settings.webhookDeliveries; i++) {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ transcript_id: job.id, status: job.status }),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      await response?.arrayBuffer().catch(() => undefined);
      job.webhookDeliveries.push({ status: response?.status ?? "unreachable", at: Date.now() });
    }
  };

  const finish = (job: FakeAssemblyAiJob): void => {
    if (settings.jobError) {
      job.status = "error";
      job.error = settings.jobError;
    } else job.status = "completed";
    const delivery = deliverWebhook(job);
    deliveries.add(delivery);
    void delivery.finally(() => deliveries.delete(delivery));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const body = await readBody(req);
    if (req.headers.authorization !== options.apiKey) return apiError(res, 401, "Authentication error, API token missing/invalid");

    if (req.method === "POST" && path === "/v2/upload") {
      const reply = script.next("upload");
      if (reply.kind === "hang") return;
      if (reply.kind === "error") return apiError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.retryAfterSeconds);
      const id = randomUUID();
      uploads.set(id, body.length);
      return sendJson(res, 200, { upload_url: `${baseUrl}/upload/${id}` });
    }

    if (req.method === "POST" && path === "/v2/transcript") {
      const reply = script.next("submit");
      if (reply.kind === "hang") return;
      if (reply.kind === "error") return apiError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.retryAfterSeconds);
      let params: Record<string, unknown>;
      try {
        params = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      } catch {
        return apiError(res, 400, "Invalid JSON body");
      }
      if (typeof params.audio_url !== "string") return apiError(res, 400, "audio_url is required");
      const uploadId = params.audio_url.split("/upload/")[1];
      const job: FakeAssemblyAiJob = {
        id: randomUUID(),
        params,
        status: "queued",
        uploadedBytes: (uploadId && uploads.get(uploadId)) || 0,
        polls: 0,
        webhookDeliveries: [],
      };
      jobs.set(job.id, job);
      setTimeout(() => finish(job), settings.processingMs);
      return sendJson(res, 200, view(job));
    }

    const match = /^\/v2\/transcript\/([^/]+)$/.exec(path);
    if (req.method === "GET" && match) {
      const reply = script.next("get");
      if (reply.kind === "hang") return;
      if (reply.kind === "error") return apiError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.retryAfterSeconds);
      const job = jobs.get(match[1]!);
      if (!job) return apiError(res, 404, "Transcript not found");
      job.polls += 1;
      if (job.status === "queued") job.status = "processing";
      return sendJson(res, 200, view(job));
    }
    return apiError(res, 404, `Not found: ${req.method} ${path}`);
  };

  const running = await listen(handle);
  baseUrl = running.url;
  return {
    baseUrl,
    jobs,
    settings,
    script: (route, ...replies) => script.push(route, ...replies),
    webhooksSettled: async () => {
      while (deliveries.size > 0) await Promise.allSettled([...deliveries]);
    },
    close: async () => {
      await running.close();
    },
  };
}
