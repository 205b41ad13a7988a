import { randomUUID } from "node:crypto";
import type { Prisma } from "@callflow/db";
import type { Emit, TransactionClient } from "@callflow/messaging";
import { callPhase } from "./phase.ts";

export type CallNotificationEvent = "call.completed" | "call.failed";
export type NotificationEvent = CallNotificationEvent | "lead.created";

/**
 * Queues one customer webhook in the caller's transaction: nothing for a tenant without a webhook URL,
 * and the same `dedupKey` twice is notified once. Returns the notification's id, or null.
 */
const enqueueNotification = async (
  tx: TransactionClient,
  emit: Emit,
  input: { tenantId: string; callId: string; event: NotificationEvent; dedupKey: string; data: (now: Date) => Promise<Record<string, unknown>> },
): Promise<string | null> => {
  const tenant = await tx.tenant.findUnique({ where: { id: input.tenantId }, select: { webhookUrl: true } });
  if (!tenant?.webhookUrl) return null;
  const id = randomUUID();
  const now = new Date();
  const { count } = await tx.notification.createMany({
    data: [
      {
        id,
        tenantId: input.tenantId,
        callId: input.callId,
        event: input.event,
        dedupKey: input.dedupKey,
        url: tenant.webhookUrl,
        payload: { id, event: input.event, createdAt: now.toISOString(), data: (await input.data(now)) as Prisma.InputJsonObject },
      },
    ],
    skipDuplicates: true,
  });
  if (count === 0) return null;
  await emit("notificationRequested", { tenantId: input.tenantId, notificationId: id });
  return id;
};

/** The customer webhook `lead.created`, in the transaction that creates the lead: once per lead. */
export const enqueueLeadNotification = (tx: TransactionClient, emit: Emit, input: { tenantId: string; callId: string; lead: Record<string, unknown> & { id: string } }): Promise<string | null> =>
  enqueueNotification(tx, emit, { tenantId: input.tenantId, callId: input.callId, event: "lead.created", dedupKey: `lead.created:${input.lead.id}`, data: async () => input.lead });

/**
 * Queues the customer webhook for a call's terminal state, inside the transaction that makes the
 * state terminal (the completion stage, the aggregator, the reaper). Nothing happens for a tenant
 * without a webhook URL; the same state announced twice is notified once. `occurrence` tells apart
 * terminal states of one audio version that are really new (failed again after a retry).
 */
export const enqueueCallNotification = async (
  tx: TransactionClient,
  emit: Emit,
  input: {
    tenantId: string;
    callId: string;
    event: CallNotificationEvent;
    audioVersion: number;
    occurrence?: string;
    error?: { code: string; message: string | null } | undefined;
  },
): Promise<string | null> => {
  const status = input.event === "call.completed" ? "completed" : "failed";
  return enqueueNotification(tx, emit, {
    tenantId: input.tenantId,
    callId: input.callId,
    event: input.event,
    dedupKey: `${input.event}:${input.callId}:v${input.audioVersion}${input.occurrence ? `:${input.occurrence}` : ""}`,
    data: async (now) => {
      const [call, stages] = await Promise.all([
        tx.call.findUnique({ where: { id: input.callId }, select: { createdAt: true } }),
        tx.stageRun.findMany({
          where: { callId: input.callId, audioVersion: input.audioVersion },
          select: { stage: true, audioVersion: true, status: true, createdAt: true, startedAt: true, finishedAt: true },
        }),
      ]);
      // The phase the customer is told is the same pure derivation the status endpoint answers with.
      const { phase, phases } = callPhase({ status, audioVersion: input.audioVersion, createdAt: call?.createdAt ?? now, settledAt: now }, stages, now);
      return {
        callId: input.callId,
        audioVersion: input.audioVersion,
        status,
        error: input.error ?? null,
        phase,
        phases: phases.map((time) => ({ ...time, startedAt: time.startedAt.toISOString(), finishedAt: time.finishedAt?.toISOString() ?? null })),
      };
    },
  });
};
