import { ACTIVE_DIAL_STATUSES, type DialStatus } from "@callflow/db";
import type { Commit } from "../calls/commit.ts";
import { conflict, notFound } from "../http/api-error.ts";

/**
 * POST /v1/dials/{id}/cancel: an active dial becomes `canceled`, with its timeline row and
 * dialStatusChanged, in one transaction. The update is a compare-and-set on the active statuses, so
 * a dialer moving the dial at the same moment either sees `canceled` and stops (its own
 * compare-and-set fails), or has already finished it and the cancel answers 409.
 */
export const cancelDial = (commit: Commit, input: { tenantId: string; dialId: string; actor: string }): Promise<{ id: string; status: DialStatus }> =>
  commit(async (tx, emit) => {
    const { tenantId, dialId } = input;
    const { count } = await tx.dial.updateMany({
      where: { id: dialId, tenantId, status: { in: [...ACTIVE_DIAL_STATUSES] } },
      data: { status: "canceled", finishedAt: new Date() },
    });
    if (count === 0) {
      const dial = await tx.dial.findFirst({ where: { id: dialId, tenantId }, select: { status: true } });
      if (!dial) throw notFound("dial", dialId);
      throw conflict("dial_finished", `the dial is ${dial.status}; only an active dial can be canceled`);
    }
    const { attempt } = await tx.dial.findUniqueOrThrow({ where: { id: dialId }, select: { attempt: true } });
    // `at` defaults to the database's clock: timeline rows written by different processes compare on one clock.
    await tx.dialEvent.create({ data: { dialId, status: "canceled", attempt, detail: `canceled through the API by ${input.actor}` } });
    await emit("dialStatusChanged", { tenantId, dialId, status: "canceled" });
    return { id: dialId, status: "canceled" as const };
  });
