import { randomUUID } from "node:crypto";
import { ApiRequestError, type CallflowApi } from "./api-client.ts";

/** What `callflow dial` does: request a dial, follow its timeline to the end, summarize it. */

export interface DialRequest {
  to: string;
  priority?: "high" | "normal" | "low";
  campaign?: string;
  idempotencyKey?: string;
}

export interface DialEvent {
  status: string;
  attempt: number;
  at: string;
  errorCode: string | null;
  detail: string | null;
}

export interface Dial {
  id: string;
  status: string;
  to: string;
  attempt: number;
  maxAttempts: number;
  providerCallId: string | null;
  callId: string | null;
  error: { code: string; message: string | null } | null;
  timeline: DialEvent[];
}

const FINAL = new Set(["completed", "busy", "no_answer", "failed", "canceled"]);
const POLL_MS = 500;

const words = (status: string): string => status.replace(/_/g, " ");

/** One person-readable line for a timeline row. */
export function describeDialEvent(event: DialEvent): string {
  const time = event.at.slice(11, 19);
  const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : "";
  const error = event.errorCode ? ` — ${event.errorCode}${event.detail ? `: ${event.detail}` : ""}` : "";
  const detail = !event.errorCode && event.status === "scheduled" && event.detail ? ` — ${event.detail}` : "";
  return `  ${time}  ${words(event.status)}${attempt}${error}${detail}`;
}

/** The carrier reports the call's length in the final row's detail ("callback: CA…, 12 s"). */
const durationOf = (dial: Dial): number | undefined => {
  const last = dial.timeline.at(-1);
  const match = last && FINAL.has(last.status) ? /, (\d+(?:\.\d+)?) s$/.exec(last.detail ?? "") : null;
  return match ? Number(match[1]) : undefined;
};

export function renderDialSummary(dial: Dial): string {
  const duration = durationOf(dial);
  const lines = [`Dial ${dial.id} to ${dial.to}: ${words(dial.status)}`];
  lines.push(`  provider call  ${dial.providerCallId ?? "—"}`);
  lines.push(`  attempts       ${dial.attempt} of ${dial.maxAttempts}`);
  if (duration !== undefined) lines.push(`  duration       ${duration} s`);
  if (dial.error?.code) lines.push(`  error          ${dial.error.code}${dial.error.message ? `: ${dial.error.message}` : ""}`);
  if (dial.callId) lines.push(`  recording      call ${dial.callId}   (callflow call ${dial.callId})`);
  return lines.join("\n");
}

/**
 * Any final state the carrier reported — completed, busy, no answer — is the dial doing its job:
 * exit 0. `failed` (the carrier or the dialer gave up) and `canceled` exit 1, and so does a dial
 * still under way when the wait runs out.
 */
export const exitCodeOf = (dial: Dial): number => (["completed", "busy", "no_answer"].includes(dial.status) ? 0 : 1);

export async function followDial(
  api: CallflowApi,
  request: DialRequest,
  options: { timeoutMs: number; say: (line: string) => void; signal?: AbortSignal },
): Promise<Dial> {
  const { say } = options;
  const idempotencyKey = request.idempotencyKey ?? randomUUID();
  const accepted = await api.post<{ id: string; status: string }>("/v1/dials", { to: request.to, ...(request.priority ? { priority: request.priority } : {}), ...(request.campaign ? { campaign: request.campaign } : {}) }, { "idempotency-key": idempotencyKey });
  say(`\nDial ${accepted.body.id} to ${request.to}${accepted.status === 200 ? " (the same request was made before; following that dial)" : ""}`);

  const deadline = Date.now() + options.timeoutMs;
  let shown = 0;
  for (;;) {
    const answer = await api.get<Dial>(`/v1/dials/${accepted.body.id}`);
    if (answer.status >= 400) throw apiError(answer.status, answer.body);
    const dial = answer.body;
    for (const event of dial.timeline.slice(shown)) say(describeDialEvent(event));
    shown = dial.timeline.length;
    if (FINAL.has(dial.status)) return dial;
    if (Date.now() >= deadline) {
      say(`\nStill ${words(dial.status)} after ${Math.round(options.timeoutMs / 1000)} s; stopped following (callflow dials shows it later).`);
      return dial;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}

const apiError = (status: number, body: unknown): ApiRequestError => {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return new ApiRequestError(status, error?.code ?? "http_error", error?.message ?? "the API refused the request");
};
