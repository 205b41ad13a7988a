import { createHmac } from "node:crypto";
import type { EventOf } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { ack, retry, type Outcome } from "@callflow/messaging";

/** Sends one HTTP POST; the one implementation uses fetch with a deadline. */
export type WebhookSender = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<{ status: number }>;

export const fetchSender: WebhookSender = async (url, body, headers, timeoutMs) => {
  const response = await fetch(url, { method: "POST", body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  await response.body?.cancel();
  return { status: response.status };
};

/**
 * `Callflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the tenant's webhook
 * secret: the receiver recomputes it and rejects stale timestamps, so a captured call cannot be replayed.
 */
export const signPayload = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;

export interface DeliveryDeps {
  db: Db;
  send: WebhookSender;
  maxAttempts: number;
  timeoutMs: number;
  /** Delay before attempt n+1 after attempt n failed. */
  backoffMs: (attempt: number) => number;
  now?: () => Date;
}

export const exponentialBackoff =
  (baseMs: number, maxMs = 600_000) =>
  (attempt: number): number =>
    Math.min(maxMs, baseMs * 2 ** (attempt - 1));

/** 4xx other than 408 and 429 means the receiver refuses this notification: retrying will not help. */
const permanent = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * Handles notificationRequested: one signed POST per delivery. Success, or giving up after
 * maxAttempts (or a permanent refusal), is written on the notification row with the error: a
 * failed notification is visible at GET /v1/notifications, never only in a log.
 */
export const createDeliverNotification =
  (deps: DeliveryDeps) =>
  async (event: EventOf<"notificationRequested">): Promise<Outcome> => {
    const now = deps.now ?? (() => new Date());
    const notification = await deps.db.notification.findFirst({ where: { id: event.notificationId, tenantId: event.tenantId } });
    if (!notification || notification.status !== "pending") return ack();
    const tenant = await deps.db.tenant.findUnique({ where: { id: notification.tenantId }, select: { webhookSecret: true } });
    const attempt = notification.attempt + 1;
    const at = now();
    const body = JSON.stringify(notification.payload);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "callflow-webhooks/1",
      "callflow-notification-id": notification.id,
      "callflow-event": notification.event,
      "callflow-attempt": String(attempt),
    };
    if (tenant?.webhookSecret) headers["callflow-signature"] = signPayload(tenant.webhookSecret, Math.floor(at.getTime() / 1000), body);

    let status: number | null = null;
    let failure: { code: string; message: string } | null = null;
    try {
      ({ status } = await deps.send(notification.url, body, headers, deps.timeoutMs));
      if (status < 200 || status >= 300) failure = { code: `http_${status}`, message: `the webhook answered ${status}` };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      failure = timedOut
        ? { code: "timeout", message: `no answer within ${deps.timeoutMs} ms` }
        : { code: "unreachable", message: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) };
    }

    const where = { id: notification.id, status: "pending" as const, attempt: notification.attempt };
    if (!failure) {
      await deps.db.notification.updateMany({ where, data: { status: "delivered", attempt, lastAttemptAt: at, deliveredAt: now(), responseStatus: status, errorCode: null, errorMessage: null } });
      return ack();
    }
    const giveUp = attempt >= deps.maxAttempts || (status !== null && permanent(status));
    await deps.db.notification.updateMany({
      where,
      data: { status: giveUp ? "failed" : "pending", attempt, lastAttemptAt: at, responseStatus: status, errorCode: failure.code, errorMessage: failure.message },
    });
    return giveUp ? ack() : retry({ afterMs: deps.backoffMs(attempt), code: failure.code, message: failure.message });
  };
