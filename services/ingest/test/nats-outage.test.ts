import { connect } from "@nats-io/transport-node";
import { topology } from "@callflow/contracts";
import { startOwnNatsServer, test, uniqueSuffix, waitFor } from "@callflow/testkit";
import { makeAudio } from "./support/audio.ts";
import { startIngestUnderTest } from "./support/ingest-fixture.ts";
import { describe, expect } from "vitest";

describe("NATS outage", () => {
  test("an upload is accepted with NATS stopped and its chunk event is published once NATS is back", async ({ database, storage }) => {
    const nats = await startOwnNatsServer();
    const namespace = `t_${uniqueSuffix()}`;
    const topo = topology(namespace);
    const client = await connect({ servers: nats.url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    let ingest: Awaited<ReturnType<typeof startIngestUnderTest>> | undefined;
    try {
      ingest = await startIngestUnderTest({ database, storage, messaging: { namespace, topology: topo, nats: client, url: nats.url } });

      await nats.kill();
      const started = Date.now();
      const response = await ingest.api("/v1/calls", { method: "POST", body: await makeAudio("wav") });
      expect(response.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(5_000);
      const { id } = (await response.json()) as { id: string };
      expect(await ingest.db.outboxEvent.count({ where: { publishedAt: null } })).toBe(2);
      // The relay tries and fails while NATS is down; the rows stay for the sweeper.
      await waitFor("a failed publish attempt", async () => (await ingest!.db.outboxEvent.count({ where: { attempts: { gt: 0 } } })) > 0, { timeoutMs: 30_000 });

      await nats.start();
      await waitFor("the outbox drained", async () => (await ingest!.db.outboxEvent.count({ where: { publishedAt: null } })) === 0, { timeoutMs: 60_000 });
      await waitFor("the client reconnected", async () => !client.isClosed() && (await client.flush().then(() => true, () => false)));
      const events = await ingest.events("chunkReady");
      expect(events.map((event) => event.callId)).toEqual([id]);
      expect((await ingest.events("callUploadFinished")).map((event) => event.callId)).toEqual([id]);
    } finally {
      await ingest?.stop();
      await client.close();
      await nats.destroy();
    }
  });
});
