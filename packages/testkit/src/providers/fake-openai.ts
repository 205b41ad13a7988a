import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody, ReplyScript, sendJson, type ScriptedReply } from "./scripted-replies.ts";

/**
 * A local server speaking OpenAI's `POST /v1/audio/transcriptions` (multipart form, `verbose_json`
 * answer with segments), as self-hosted Whisper servers do too. Point the real `openai` SDK at
 * `url + "/v1"`. Knobs: scripted 429/5xx/4xx replies with Retry-After, hangs, and the transcript.
 */

export interface FakeTranscriptionRequest {
  model: string;
  responseFormat: string | undefined;
  timestampGranularities: string[];
  fileName: string;
  fileBytes: number;
  language: string | undefined;
  authorization: string | undefined;
  receivedAt: number;
}

export interface FakeSegment {
  start: number;
  end: number;
  text: string;
}

export interface FakeOpenAiOptions {
  /** The bearer token the server accepts; others get 401. */
  apiKey?: string;
  /** The transcript of a request; default one segment saying "hello from the fake provider". */
  transcript?: (request: FakeTranscriptionRequest) => { text?: string; segments: FakeSegment[]; duration?: number };
  /** Bytes above which the server answers 413 like OpenAI's 25 MB limit. */
  maxFileBytes?: number;
  /** Awaited before a request is answered: a provider that takes a fixed time per chunk (bench/scale). */
  delay?: (request: FakeTranscriptionRequest) => Promise<void>;
}

export interface FakeOpenAi {
  /** Base URL for the SDK (`…/v1`). */
  readonly baseURL: string;
  readonly requests: FakeTranscriptionRequest[];
  /** Replies for the next transcription requests, in order. */
  script(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

type Route = "transcriptions";

const openAiError = (res: ServerResponse, status: number, message: string, retryAfterSeconds?: number): void => {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, { error: { message, type, param: null, code: null } }, retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) });
};

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const script = new ReplyScript<Route>();
  const requests: FakeTranscriptionRequest[] = [];
  const maxFileBytes = options.maxFileBytes ?? 25 * 1024 * 1024;
  const transcript: NonNullable<FakeOpenAiOptions["transcript"]> =
    options.transcript ?? (() => ({ segments: [{ start: 0, end: 1.5, text: "hello from the fake provider" }] }));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    if (req.method !== "POST" || path !== "/v1/audio/transcriptions") {
      await readBody(req);
      return openAiError(res, 404, `Invalid URL (${req.method} ${path})`);
    }
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      await readBody(req);
      return openAiError(res, 401, "Incorrect API key provided");
    }
    const body = await readBody(req);
    const form = await new Request("http://fake/", {
      method: "POST",
      headers: { "content-type": req.headers["content-type"] ?? "" },
      // A copy as a plain Uint8Array: with the DOM library (the console tests compile with it) a Buffer is no BodyInit.
      body: new Uint8Array(body),
    }).formData();
    const file = form.get("file");
    const request: FakeTranscriptionRequest = {
      model: String(form.get("model") ?? ""),
      responseFormat: form.get("response_format")?.toString(),
      timestampGranularities: form.getAll("timestamp_granularities[]").map(String),
      fileName: file instanceof File ? file.name : "",
      fileBytes: file instanceof File ? file.size : 0,
      language: form.get("language")?.toString(),
      authorization: req.headers.authorization,
      receivedAt: Date.now(),
    };
    requests.push(request);
    if (options.delay) await options.delay(request);

    const reply = script.next("transcriptions");
    if (reply.kind === "hang") return; // the socket stays open until the client gives up or close()
    if (reply.kind === "error") return openAiError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.retryAfterSeconds);
    if (!(file instanceof File)) return openAiError(res, 400, "Missing required parameter: 'file'.");
    if (!request.model) return openAiError(res, 400, "Missing required parameter: 'model'.");
    if (request.fileBytes > maxFileBytes) return openAiError(res, 413, `Maximum content size limit (${maxFileBytes}) exceeded`);

    const { segments, text, duration } = transcript(request);
    const fullText = text ?? segments.map((s) => s.text).join(" ");
    if (request.responseFormat === "text") {
      res.writeHead(200, { "content-type": "text/plain" }).end(fullText);
      return;
    }
    if (request.responseFormat !== "verbose_json") return sendJson(res, 200, { text: fullText });
    sendJson(res, 200, {
      task: "transcribe",
      language: "english",
      duration: duration ?? segments.at(-1)?.end ?? 0,
      text: fullText,
      segments: segments.map((segment, id) => ({
        id,
        seek: 0,
        start: segment.start,
        end: segment.end,
        text: ` ${segment.text}`,
        tokens: [],
        temperature: 0,
        avg_logprob: -0.25,
        compression_ratio: 1.3,
        no_speech_prob: 0.01,
      })),
    });
  };

  const running = await listen(handle);
  return {
    baseURL: `${running.url}/v1`,
    requests,
    script: (...replies) => script.push("transcriptions", ...replies),
    close: running.close,
  };
}
