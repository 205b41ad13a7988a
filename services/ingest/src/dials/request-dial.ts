import { randomUUID } from "node:crypto";
import { ACTIVE_DIAL_STATUSES, type DialPriority, type DialStatus, type Prisma } from "@callflow/db";
import type { Commit, TransactionClient } from "../calls/commit.ts";
import { ApiError, conflict } from "../http/api-error.ts";
import { dedupKeyOf } from "./dial-request.ts";

export interface DialRequest {
  tenantId: string;
  /** E.164, normalised. */
  toNumber: string;
  fromNumber: string | null;
  campaign: string | null;
  priority: DialPriority;
  notBefore: Date | null;
  calleeTimezone: string | null;
  metadata: Prisma.InputJsonObject;
  idempotencyKey: string | null;
  /** Attempts a busy or unanswered call gets (the campaign's retry policy); unset: one. */
  maxAttempts?: number | undefined;
}

export interface DialAnswer {
  dial: { id: string; status: DialStatus };
  /** False: the request was made before, and `dial` is the dial it made. */
  created: boolean;
}

const answered = { id: true, status: true, toNumber: true, campaign: true } as const;

/** The dial an earlier request with this Idempotency-Key made; the key may not name another request. */
const byIdempotencyKey = async (tx: TransactionClient, request: DialRequest) => {
  if (!request.idempotencyKey) return null;
  const dial = await tx.dial.findUnique({ where: { tenantId_idempotencyKey: { tenantId: request.tenantId, idempotencyKey: request.idempotencyKey } }, select: answered });
  if (dial && (dial.toNumber !== request.toNumber || dial.campaign !== request.campaign)) {
    throw new ApiError(422, "idempotency_key_reused", `this Idempotency-Key was used for a dial to ${dial.toNumber}${dial.campaign ? ` in campaign "${dial.campaign}"` : ""}; use a new key for a new dial`);
  }
  return dial;
};

const MAX_INSERTS = 3;

/**
 * Records a dial request durably: the dial, its `queued` timeline row and dialRequested commit in one
 * transaction (invariant 1). What "the same request" is, the unique indexes decide, so two concurrent
 * identical requests cannot both insert: the insert skips on a conflict (ON CONFLICT DO NOTHING waits
 * for the other transaction) and the request is answered with the dial that holds the key, by its
 * Idempotency-Key or as the tenant's active dial for this number and campaign.
 */
export const requestDial = (commit: Commit, request: DialRequest): Promise<DialAnswer> =>
  commit(async (tx, emit) => {
    const { tenantId, toNumber } = request;
    const replayed = await byIdempotencyKey(tx, request);
    if (replayed) return { dial: { id: replayed.id, status: replayed.status }, created: false };
    const listed = await tx.doNotCall.findUnique({ where: { tenantId_number: { tenantId, number: toNumber } }, select: { id: true } });
    if (listed) throw new ApiError(422, "do_not_call", `${toNumber} is on the tenant's do-not-call list`);

    const dedupKey = dedupKeyOf(toNumber, request.campaign);
    for (let insert = 0; insert < MAX_INSERTS; insert += 1) {
      const id = randomUUID();
      const { count } = await tx.dial.createMany({
        data: [
          {
            id,
            tenantId,
            toNumber,
            fromNumber: request.fromNumber,
            campaign: request.campaign,
            priority: request.priority,
            dedupKey,
            idempotencyKey: request.idempotencyKey,
            notBefore: request.notBefore,
            calleeTimezone: request.calleeTimezone,
            metadata: request.metadata,
            ...(request.notBefore ? { nextAttemptAt: request.notBefore } : {}),
            ...(request.maxAttempts === undefined ? {} : { maxAttempts: request.maxAttempts }),
          },
        ],
        skipDuplicates: true,
      });
      if (count === 1) {
        await tx.dialEvent.create({ data: { dialId: id, status: "queued", attempt: 0 } });
        await emit("dialRequested", { tenantId, dialId: id, attempt: 0 });
        return { dial: { id, status: "queued" }, created: true };
      }
      const holder =
        (await byIdempotencyKey(tx, request)) ??
        (await tx.dial.findFirst({ where: { tenantId, dedupKey, status: { in: [...ACTIVE_DIAL_STATUSES] } }, select: answered }));
      if (holder) return { dial: { id: holder.id, status: holder.status }, created: false };
      // The dial that held the key finished between the insert and this read: the key is free again.
    }
    throw conflict("dial_contended", `dials to ${toNumber} keep starting and finishing while this request runs; send it again`);
  });
