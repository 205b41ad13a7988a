import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody, sendJson, type ScriptedReply } from "./scripted-replies.ts";

/**
 * A local server speaking OpenAI's `POST /v1/chat/completions` (the non-streaming JSON answer), as
 * OpenAI-compatible servers do too. Point the real `openai` SDK at `baseURL`. Knobs: scripted
 * 429/5xx/4xx replies with Retry-After, hangs, answers whose content is any text (invalid JSON,
 * JSON of the wrong shape) besides the default answer, and a latency so requests overlap and the
 * most in flight at once can be counted.
 */

export interface FakeChatMessage {
  role: string;
  content: string;
}

export interface FakeChatRequest {
  model: string;
  messages: FakeChatMessage[];
  /** The request's `response_format`, as sent (e.g. `{ type: "json_schema", json_schema: {...} }`). */
  responseFormat: unknown;
  authorization: string | undefined;
  receivedAt: number;
}

/** A chat reply: the shared scripted replies, or an answer whose message content is exactly `content`. */
export type ChatReply = ScriptedReply | { kind: "content"; content: string; finishReason?: "stop" | "length" };

export interface FakeOpenAiChatOptions {
  /** The bearer token the server accepts; others get 401. */
  apiKey?: string;
  /** The answer to an unscripted request, serialized as the message's JSON content. */
  answer?: (request: FakeChatRequest) => unknown;
  /** How long each completion takes to answer (scripted errors answer at once). */
  latencyMs?: number;
}

export interface FakeOpenAiChat {
  /** Base URL for the SDK (`…/v1`). */
  readonly baseURL: string;
  readonly requests: FakeChatRequest[];
  /** The most chat completion requests that were open at the same time. */
  readonly maxInFlight: number;
  /** Replies for the next chat completion requests, in order. */
  script(...replies: ChatReply[]): void;
  close(): Promise<void>;
}

const openAiError = (res: ServerResponse, status: number, message: string, retryAfterSeconds?: number): void => {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, { error: { message, type, param: null, code: null } }, retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) });
};

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: unknown }) => (typeof part?.text === "string" ? part.text : "")).join("")
      : "";

export async function startFakeOpenAiChat(options: FakeOpenAiChatOptions = {}): Promise<FakeOpenAiChat> {
  // Its own queue rather than ReplyScript's: content replies are a kind only this server has.
  const script: ChatReply[] = [];
  const requests: FakeChatRequest[] = [];
  const answer = options.answer ?? (() => ({ answer: "hello from the fake provider" }));
  let completions = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const raw = await readBody(req);
    if (req.method !== "POST" || path !== "/v1/chat/completions") return openAiError(res, 404, `Invalid URL (${req.method} ${path})`);
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) return openAiError(res, 401, "Incorrect API key provided");
    let body: { model?: unknown; messages?: unknown; response_format?: unknown; stream?: unknown };
    try {
      body = JSON.parse(raw.toString("utf8")) as typeof body;
    } catch {
      return openAiError(res, 400, "We could not parse the JSON body of your request.");
    }
    const request: FakeChatRequest = {
      model: typeof body.model === "string" ? body.model : "",
      messages: Array.isArray(body.messages)
        ? body.messages.map((message: { role?: unknown; content?: unknown }) => ({ role: String(message?.role ?? ""), content: textOf(message?.content) }))
        : [],
      responseFormat: body.response_format,
      authorization: req.headers.authorization,
      receivedAt: Date.now(),
    };
    requests.push(request);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once("close", () => {
      inFlight -= 1;
    });

    const reply: ChatReply = script.shift() ?? { kind: "ok" };
    if (reply.kind === "hang") return; // the socket stays open until the client gives up or close()
    if (reply.kind === "error") return openAiError(res, reply.status, reply.message ?? `scripted ${reply.status}`, reply.retryAfterSeconds);
    if (!request.model) return openAiError(res, 400, "you must provide a model parameter");
    if (request.messages.length === 0) return openAiError(res, 400, "Missing required parameter: 'messages'.");
    if (body.stream === true) return openAiError(res, 400, "the fake chat server does not stream");

    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    const content = reply.kind === "content" ? reply.content : JSON.stringify(answer(request));
    completions += 1;
    const promptTokens = Math.ceil(request.messages.reduce((sum, message) => sum + message.content.length, 0) / 4);
    const completionTokens = Math.ceil(content.length / 4);
    sendJson(res, 200, {
      id: `chatcmpl-fake${completions}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: (reply.kind === "content" && reply.finishReason) || "stop" }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      system_fingerprint: "fp_fake",
    });
  };

  const running = await listen(handle);
  return {
    baseURL: `${running.url}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    script: (...replies) => {
      script.push(...replies);
    },
    close: running.close,
  };
}
