import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { jetstreamManager, jetstream } from "@nats-io/jetstream";
import { encodeEvent } from "@callflow/contracts";
import { expect, test, waitFor } from "../src/index.ts";

/**
 * Run by test/isolation.test.ts as two files of one vitest run in parallel (A and B). Each writes its
 * own rows, messages and objects, waits until the other has written too, then sees only its own.
 */
export function isolationScenario(me: "A" | "B") {
  test(`file ${me} sees only its own rows, messages and objects while the other file writes`, async ({ database, messaging, storage }) => {
    const rendezvous = process.env.CALLFLOW_ISOLATION_DIR!;
    const tenant = await database.db.tenant.create({ data: { name: `tenant-${me}` } });
    const jsm = await jetstreamManager(messaging.nats);
    const t = messaging.topology;
    await jsm.streams.add({ name: t.stream("calls"), subjects: [t.streamSubjects("calls")] });
    await jetstream(messaging.nats).publish(t.subject("callCompleted"), encodeEvent("callCompleted", { tenantId: tenant.id, callId: me }));
    await storage.store.putStream(`calls/${me}.txt`, (await import("node:stream")).Readable.from([Buffer.from(me)]));

    await mkdir(rendezvous, { recursive: true });
    await writeFile(path.join(rendezvous, me), database.name);
    await waitFor("the other file to write its data", async () => (await readdir(rendezvous)).length === 2, { timeoutMs: 30_000 });

    expect((await database.db.tenant.findMany()).map((x) => x.name)).toEqual([`tenant-${me}`]);
    const streams: string[] = [];
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${messaging.namespace.toUpperCase()}_`)) streams.push(s.config.name);
    expect(streams).toEqual([t.stream("calls")]);
    expect((await jsm.streams.info(t.stream("calls"))).state.messages).toBe(1);
    const keys: string[] = [];
    for await (const o of storage.store.list("")) keys.push(o.key);
    expect(keys).toEqual([`calls/${me}.txt`]);
  });
}
