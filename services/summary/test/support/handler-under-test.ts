import { decodeEvent, topology, type Topology } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { createLogger } from "@callflow/telemetry";
import { createSummarizeTranscript } from "../../src/handler.ts";
import { createSummaryStage } from "../../src/stage/summary-stage.ts";
import type { Summarizer } from "../../src/summarizers/port.ts";

/** The handler over a test database; events go to the outbox (no relay), where the tests count them. */
export const handlerUnderTest = (db: Db, summarizer: Summarizer, options: { heartbeatMs?: number } = {}) => {
  const t: Topology = topology(`t_handler`);
  const handle = createSummarizeTranscript({
    stage: createSummaryStage({ db, topology: t }),
    summarizer,
    logger: createLogger({ service: "summary", level: "silent" }),
    heartbeatMs: options.heartbeatMs ?? 1_000,
  });
  const delivery = () => ({ working: () => undefined, signal: new AbortController().signal, deliveryCount: 1, lastDelivery: false });
  return {
    deliver: (event: Parameters<typeof handle>[0]) => handle(event, delivery()),
    summarizedEvents: (callId: string) =>
      db.outboxEvent.findMany({ where: { subject: t.subject("callSummarized") } }).then((rows) => rows.map((row) => decodeEvent("callSummarized", row.payload)).filter((event) => event.callId === callId)),
    failedEvents: () => db.outboxEvent.count({ where: { subject: t.subject("callFailed") } }),
  };
};
