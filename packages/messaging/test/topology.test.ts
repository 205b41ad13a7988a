import { AckPolicy, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { millis, nanos } from "@nats-io/nats-core";
import { connectTestNats, expect, test, testInfraUrls } from "@callflow/testkit";
import { declareTopology, TopologyDriftError, type ConsumerDeclaration } from "../src/topology.ts";

const transcription: ConsumerDeclaration = { key: "transcription", ackWaitMs: 30_000, maxDeliver: 5 };
const merge: ConsumerDeclaration = { key: "merge", ackWaitMs: 120_000, maxDeliver: 3, backoffMs: [120_000, 300_000], maxAckPending: 8 };

test("creates the three streams and the durable pull consumers the code declares", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);

  const result = await declareTopology(jsm, t, [transcription, merge]);

  expect(result.streamsCreated.sort()).toEqual([t.stream("calls"), t.stream("deadLetters"), t.stream("dials")].sort());
  const calls = await jsm.streams.info(t.stream("calls"));
  expect(calls.config).toMatchObject({
    subjects: [t.streamSubjects("calls")],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3_600_000),
    duplicate_window: nanos(120_000),
  });

  const { stream, durable, filterSubject } = t.consumer("merge");
  const info = await jsm.consumers.info(stream, durable);
  expect(info.config).toMatchObject({ ack_policy: AckPolicy.Explicit, filter_subject: filterSubject, max_deliver: 3, max_ack_pending: 8 });
  expect(info.config.deliver_subject).toBeUndefined();
  expect(millis(info.config.ack_wait ?? 0)).toBe(120_000);
  expect(info.config.backoff?.map((ns) => millis(ns))).toEqual([120_000, 300_000]);
});

test("is idempotent when several processes declare at once", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);

  const connections = await Promise.all([1, 2, 3, 4].map(() => connectTestNats(testInfraUrls().nats)));
  try {
    const managers = await Promise.all(connections.map((connection) => jetstreamManager(connection)));
    await Promise.all(managers.map((manager) => declareTopology(manager, t, [transcription, merge])));
  } finally {
    await Promise.all(connections.map((connection) => connection.close()));
  }

  const again = await declareTopology(jsm, t, [transcription, merge]);
  expect(again).toEqual({ streamsCreated: [], streamsUpdated: [], consumersCreated: [], consumersUpdated: {} });
  const names: string[] = [];
  for await (const consumer of jsm.consumers.list(t.stream("calls"))) names.push(consumer.name);
  expect(names.sort()).toEqual([t.consumer("merge").durable, t.consumer("transcription").durable].sort());
});

test("refuses to start when an existing consumer has a different max_deliver, naming it and both values", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  await declareTopology(jsm, t, [transcription]);

  const declared = declareTopology(jsm, t, [{ ...transcription, maxDeliver: 8 }]);

  await expect(declared).rejects.toBeInstanceOf(TopologyDriftError);
  const { stream, durable } = t.consumer("transcription");
  await expect(declared).rejects.toThrow(`consumer ${stream}/${durable} has drifted: max_deliver is 5 on the server but this code declares 8`);
  // Nothing was changed behind the operator's back.
  expect((await jsm.consumers.info(stream, durable)).config.max_deliver).toBe(5);
});

test("refuses a consumer whose filter subject differs", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  await declareTopology(jsm, t, []);
  const { stream, durable } = t.consumer("transcription");
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: `${t.namespace}.calls.>`, max_deliver: 5, ack_wait: nanos(30_000) });

  await expect(declareTopology(jsm, t, [transcription])).rejects.toThrow(
    `filter_subject is "${t.namespace}.calls.>" on the server but this code declares "${t.consumer("transcription").filterSubject}"`,
  );
});

test("updates ack_wait, backoff and max_ack_pending in place", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  await declareTopology(jsm, t, [merge]);

  const result = await declareTopology(jsm, t, [{ ...merge, ackWaitMs: 60_000, maxDeliver: 3, backoffMs: [60_000, 90_000], maxAckPending: 16 }]);

  const { stream, durable } = t.consumer("merge");
  expect(result.consumersUpdated[durable]).toEqual([
    "ack_wait 120000ms → 60000ms",
    "backoff [120000, 300000]ms → [60000, 90000]ms",
    "max_ack_pending 8 → 16",
  ]);
  const info = await jsm.consumers.info(stream, durable);
  expect(millis(info.config.ack_wait ?? 0)).toBe(60_000);
  expect(info.config.backoff?.map((ns) => millis(ns))).toEqual([60_000, 90_000]);
  expect(info.config.max_ack_pending).toBe(16);
  expect(info.config.max_deliver).toBe(3);
});

test("refuses a stream whose subjects differ from the contract's", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  await jsm.streams.add({ name: t.stream("dials"), subjects: [`${t.namespace}.dials.requested`] });

  await expect(declareTopology(jsm, t, [])).rejects.toThrow(
    `stream ${t.stream("dials")} has drifted: subjects is ["${t.namespace}.dials.requested"] on the server but this code declares ["${t.streamSubjects("dials")}"]`,
  );
});

test("rejects a declaration JetStream would silently reinterpret", async ({ messaging }) => {
  const jsm = await jetstreamManager(messaging.nats);
  await expect(declareTopology(jsm, messaging.topology, [{ ...merge, backoffMs: [10_000] }])).rejects.toThrow(
    "backoffMs[0] (10000) must equal ackWaitMs (120000): JetStream uses it as ack_wait",
  );
});

test("a stream create that meets nats-server removing its storage directory is tried again", async ({ messaging }) => {
  const { nats, topology: t } = messaging;
  const jsm = await jetstreamManager(nats);
  // The server's answer when a create races the removal of the account's last stream directory.
  let refused = 0;
  const racing = new Proxy(jsm, {
    get(target, key) {
      if (key !== "streams") return Reflect.get(target, key);
      return new Proxy(target.streams, {
        get(streams, name) {
          if (name === "add" && refused < 2) {
            return () => {
              refused += 1;
              return Promise.reject(new JetStreamApiError({ code: 500, err_code: 10077, description: "error creating store for stream" }));
            };
          }
          const value: unknown = Reflect.get(streams, name);
          return typeof value === "function" ? value.bind(streams) : value;
        },
      });
    },
  });

  const result = await declareTopology(racing, t, [transcription]);
  expect(refused).toBe(2);
  expect(result.streamsCreated).toContain(t.stream("calls"));
  expect((await jsm.streams.info(t.stream("calls"))).config.subjects).toEqual([t.streamSubjects("calls")]);
});
