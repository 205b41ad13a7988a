import type { ProviderCallbackReceived } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { ack, type Outcome } from "@callflow/messaging";
import type { WebhookResult } from "./complete-from-webhook.ts";

/**
 * providerCallbackReceived → completeFromWebhook, for AssemblyAI's transcript webhooks that ingest
 * recorded. The callback row is marked processed afterwards; a redelivery before that runs the
 * completion again, which is a compare-and-set and changes nothing the second time.
 */
export const createHandleProviderCallback = (deps: {
  db: Db;
  completeFromWebhook: (jobId: string, signal?: AbortSignal) => Promise<WebhookResult>;
}) =>
  async (event: Pick<ProviderCallbackReceived, "callbackId" | "provider">, signal?: AbortSignal): Promise<Outcome> => {
    // Another provider's callback: not a transcription's.
    if (event.provider !== "assemblyai") return ack();
    const callback = await deps.db.providerCallback.findUnique({ where: { id: event.callbackId } });
    // Gone, or processed by an earlier delivery.
    if (!callback || callback.processedAt) return ack();
    if (!callback.externalId) {
      await deps.db.providerCallback.update({
        where: { id: callback.id },
        data: { processedAt: new Date(), errorCode: "missing_transcript_id", errorMessage: "the webhook named no transcript_id" },
      });
      return ack();
    }
    const result = await deps.completeFromWebhook(callback.externalId, signal);
    await deps.db.providerCallback.update({
      where: { id: callback.id },
      data: {
        processedAt: new Date(),
        ...(result === "unknown_job" ? { errorCode: "unknown_job", errorMessage: `no chunk waits on transcript ${callback.externalId}` } : {}),
      },
    });
    return ack();
  };
