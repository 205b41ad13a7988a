import { connect } from "@nats-io/transport-node";
import { topology } from "@callflow/contracts";
import { createMetrics } from "@callflow/telemetry";
import { expect, startOwnNatsServer, test, uniqueSuffix, waitFor } from "@callflow/testkit";
import { commitWithEvents, createOutboxRelay } from "../src/outbox.ts";
import { createTestPublisher, declareTestStreams, jetStreamOf, streamMessageCount, testLogger } from "./fixtures/outbox-support.ts";

test("events committed while NATS is unreachable stay unpublished with their error, then the sweeper publishes each once", async ({ database }) => {
  const { db } = database;
  const server = await startOwnNatsServer();
  const nats = await connect({ servers: server.url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  try {
    const t = topology(`t_${uniqueSuffix()}`);
    const { js, jsm } = await jetStreamOf(nats, 1_000);
    await declareTestStreams(jsm, t);
    const metrics = createMetrics({ service: "outbox-unreachable" });
    const relay = createOutboxRelay({
      db,
      publisher: createTestPublisher(js),
      logger: testLogger(),
      metrics,
      staleAfterMs: 200,
      sweepEveryMs: 100,
      maxBackoffMs: 400,
      publishTimeoutMs: 1_000,
    });
    relay.start();
    try {
      await server.kill();
      const ids = await Promise.all(
        [1, 2, 3].map((n) =>
          commitWithEvents(db, t, (_tx, emit) => emit("dialRequested", { tenantId: "t", dialId: `dial-${n}`, attempt: 1 }), relay),
        ),
      );

      const failed = await waitFor("every row to record a failed attempt", async () => {
        const rows = await db.outboxEvent.findMany({ where: { id: { in: ids } } });
        return rows.length === 3 && rows.every((row) => row.attempts > 0 && row.lastError) ? rows : undefined;
      });
      expect(failed.every((row) => row.publishedAt === null)).toBe(true);
      await relay.sweep();
      expect((await metrics.outboxOldestAge.get()).values[0]?.value).toBeGreaterThan(0);

      await server.start();
      await waitFor("the sweeper to publish every row once NATS is back", async () =>
        (await db.outboxEvent.count({ where: { id: { in: ids }, publishedAt: null } })) === 0,
      );
    } finally {
      await relay.stop();
    }

    expect(await streamMessageCount(jsm, t.stream("dials"))).toBe(3);
    const msgIds = await Promise.all(
      [1, 2, 3].map(async (seq) => (await jsm.streams.getMessage(t.stream("dials"), { seq }))?.header.get("Nats-Msg-Id")),
    );
    expect(new Set(msgIds).size).toBe(3);
    expect((await metrics.outboxPublished.get()).values[0]?.value).toBe(3);
  } finally {
    await nats.close();
    await server.destroy();
  }
});
