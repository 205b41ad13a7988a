import type { ConsumerDeclaration } from "@callflow/messaging";

/**
 * The one consumer the ingest process runs: customer notifications. Attempts are counted on the
 * notification row (the handler gives up after CALLFLOW_NOTIFY_MAX_ATTEMPTS and records why);
 * JetStream's max_deliver only catches a handler that keeps crashing, into the dead letters.
 */
export const notifierDeclaration = (options: { timeoutMs: number; maxAttempts: number }): ConsumerDeclaration & { key: "notifier" } => ({
  key: "notifier",
  ackWaitMs: Math.max(options.timeoutMs + 30_000, 1_000),
  maxDeliver: options.maxAttempts + 5,
});
