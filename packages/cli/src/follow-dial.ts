import { randomUUID } from "node:crypto";
import { ApiRequestError, type CallflowApi } from "./api-client.ts";
import { collectReport, type CallReport } from "./process-call.ts";

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
  leadId: string | null;
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

export interface Lead {
  id: string;
  direction: string;
  to: string | null;
  callerName: string | null;
  callbackNumber: string | null;
  intent: string | null;
  followUpDate: string | null;
}

export interface DialOutcome {
  /** The call the recording became, once processed; undefined when there is no recording or it never came. */
  report: CallReport | undefined;
  lead: Lead | undefined;
}

const CALL_FINAL = new Set(["completed", "failed"]);

/**
 * After an answered dial: follows its recording into the pipeline (the call it becomes, that call to
 * its end) and the lead made from it, printing each step. Stops with a line saying why when the
 * recording endpoint answers that there is none or that its fetch failed for good.
 */
export async function followDialOutcome(api: CallflowApi, dialId: string, options: { timeoutMs: number; say: (line: string) => void }): Promise<DialOutcome> {
  const { say } = options;
  const deadline = Date.now() + options.timeoutMs;
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  say("\nRecording");
  let callId: string | undefined;
  let lastMessage = "";
  while (!callId) {
    const dial = (await api.get<Dial>(`/v1/dials/${dialId}`)).body;
    if (dial.callId) {
      callId = dial.callId;
      break;
    }
    const answer = await api.get<{ message?: string; error?: { code: string; message: string } }>(`/v1/dials/${dialId}/recording?redirect=true`);
    if (answer.status === 404 || answer.status >= 500) {
      say(`  no recording — ${answer.body.error?.code ?? answer.status}: ${answer.body.error?.message ?? "the API gave no reason"}`);
      return { report: undefined, lead: undefined };
    }
    if (answer.status === 202 && answer.body.message && answer.body.message !== lastMessage) say(`  ${(lastMessage = answer.body.message)}`);
    if (Date.now() >= deadline) return { report: undefined, lead: undefined };
    await pause();
  }
  say(`  fetched into call ${callId}; transcribing and summarizing…`);
  let status = "";
  for (;;) {
    const call = await api.get<{ status: string; phase?: string }>(`/v1/calls/${callId}`);
    const now = call.body.phase ?? call.body.status;
    if (now !== status) say(`  call ${(status = now)}`);
    if (CALL_FINAL.has(call.body.status)) break;
    if (Date.now() >= deadline) return { report: await collectReport(api, callId), lead: undefined };
    await pause();
  }
  const report = await collectReport(api, callId);
  if (report.status !== "completed") return { report, lead: undefined };
  for (;;) {
    const dial = (await api.get<Dial>(`/v1/dials/${dialId}`)).body;
    if (dial.leadId) return { report, lead: (await api.get<Lead>(`/v1/leads/${dial.leadId}`)).body };
    if (Date.now() >= deadline) return { report, lead: undefined };
    await pause();
  }
}

export function renderLead(lead: Lead | undefined): string {
  if (!lead) return "Lead: none (the tenant's leads setting, or the call did not complete)";
  const field = (value: string | null) => value ?? "—";
  return [
    `Lead ${lead.id} (${lead.direction})`,
    `  caller name     ${field(lead.callerName)}`,
    `  intent          ${field(lead.intent)}`,
    `  callback number ${field(lead.callbackNumber)}`,
    `  follow-up date  ${field(lead.followUpDate)}`,
  ].join("\n");
}
