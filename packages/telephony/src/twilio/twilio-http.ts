import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient.js";
import type ResponseModule from "twilio/lib/http/response.js";
import { errorForAnswer, RetryableTelephonyError } from "../errors.ts";

type TwilioResponse<T> = ResponseModule.default<T>;

export const TWILIO_API_ORIGIN = "https://api.twilio.com";

/**
 * Maps a URL the SDK (or Twilio) names on api.twilio.com, or a regional/edge host of it, onto the
 * configured API base. Unchanged when the base is Twilio's own: then the SDK's edge settings rule.
 */
export const redirectToApiBase = (url: string, apiBaseUrl: string): string => {
  const base = new URL(apiBaseUrl);
  if (base.origin === TWILIO_API_ORIGIN) return url;
  const target = new URL(url);
  if (!/^api(\.[a-z0-9-]+)*\.twilio\.com$/.test(target.hostname)) return url;
  return `${base.origin}${base.pathname.replace(/\/+$/, "")}${target.pathname}${target.search}`;
};

const header = (headers: unknown, name: string): string | undefined => {
  if (!headers || typeof headers !== "object") return undefined;
  const bag = headers as { get?: (name: string) => unknown } & Record<string, unknown>;
  const value = typeof bag.get === "function" ? bag.get(name) : bag[name];
  return typeof value === "string" ? value : undefined;
};

/** Twilio's error body, `{code, message, more_info, status}`, however the transport handed it over. */
export const readErrorBody = (body: unknown): { code?: number; message?: string } => {
  if (typeof body === "string") {
    try {
      return readErrorBody(JSON.parse(body));
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  if (!body || typeof body !== "object") return {};
  const { code, message } = body as Record<string, unknown>;
  return { ...(typeof code === "number" ? { code } : {}), ...(typeof message === "string" ? { message } : {}) };
};

const timedOut = (what: string, ms: number, cause?: unknown) =>
  new RetryableTelephonyError("telephony_timeout", `twilio did not answer ${what} within ${ms} ms; whether it acted is unknown`, { cause });

/**
 * The SDK's own HTTP client with three changes: requests go to the configured API base (a
 * Twilio-speaking server of our own in tests and the simulated carrier), every request is bounded by
 * one deadline, and error answers are classified here, where the Retry-After header is still at hand
 * (the SDK's RestException drops it).
 */
export class TwilioHttp extends twilio.RequestClient {
  constructor(private readonly settings: { apiBaseUrl: string; timeoutMs: number }) {
    super({ timeout: settings.timeoutMs, autoRetry: false });
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const { timeoutMs } = this.settings;
    const what = `${opts.method.toUpperCase()} ${new URL(opts.uri).pathname}`;
    let timer: NodeJS.Timeout | undefined;
    // The SDK's timeout is a socket idle timeout; the race makes it a deadline for the whole answer.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut(what, timeoutMs)), timeoutMs);
    });
    let answer: TwilioResponse<TData>;
    try {
      answer = await Promise.race([super.request({ ...opts, uri: redirectToApiBase(opts.uri, this.settings.apiBaseUrl), timeout: timeoutMs }), deadline]);
    } catch (error) {
      throw transportError(error, what, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (answer.statusCode >= 400) {
      const body = readErrorBody(answer.body);
      throw errorForAnswer({
        status: answer.statusCode,
        providerCode: body.code,
        message: body.message ?? `${what} failed`,
        retryAfter: header(answer.headers, "retry-after"),
      });
    }
    return answer;
  }
}

/** Transport failures (no HTTP answer) are retryable; anything else is not ours to classify. */
const transportError = (error: unknown, what: string, timeoutMs: number): unknown => {
  if (error instanceof RetryableTelephonyError) return error;
  const failure = error as { isAxiosError?: boolean; code?: string; message?: string };
  if (!failure?.isAxiosError) return error;
  if (failure.code === "ECONNABORTED" || failure.code === "ETIMEDOUT") return timedOut(what, timeoutMs, error);
  return new RetryableTelephonyError("telephony_unreachable", `twilio unreachable for ${what}: ${failure.code ?? failure.message}`, { cause: error });
};
