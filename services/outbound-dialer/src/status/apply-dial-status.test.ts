import { decodeEvent, encodeEvent, topology, type DialStatusChanged } from "@callflow/contracts";
import type { Db } from "@callflow/db";
import { describe, expect, test } from "@callflow/testkit";
import { createApplyDialStatus, STATUS_REPORT_LOST, type StatusOutcome } from "./apply-dial-status.ts";
import { movableClock, quietLogger, seedDial, seedTenant, timeline } from "./status-fixtures.ts";

const setup = async (db: Db, dial: Parameters<typeof seedDial>[2] = {}) => {
  const tenantId = await seedTenant(db);
  const row = await seedDial(db, tenantId, dial);
  const { handle, onDeadLetter } = createApplyDialStatus({ db, clock: movableClock(new Date()), logger: quietLogger, retry: { spacingMs: 60_000 }, topology: topology(), recordingMaxAttempts: 3 });
  const report = (status: string, fields: Partial<Omit<DialStatusChanged, "$typeName" | "$unknown">> = {}): DialStatusChanged =>
    decodeEvent("dialStatusChanged", encodeEvent("dialStatusChanged", { tenantId, dialId: row.id, status, attempt: row.attempt, providerCallId: row.providerCallId ?? "", ...fields }));
  return { tenantId, dial: row, handle, onDeadLetter, report };
};

const appliedOf = (outcome: StatusOutcome) => (outcome.kind === "ack" ? outcome.applied : outcome);

describe("applying dial status reports", () => {
  test("callbacks delivered out of order and twice move the dial forward once per status and never back", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db);
    const sequence = ["ringing", "in_progress", "ringing", "in_progress", "placed", "completed", "ringing", "completed", "in_progress"];
    const outcomes = [];
    for (const status of sequence) outcomes.push(appliedOf(await handle(report(status, status === "completed" ? { durationSeconds: 42 } : {}))));

    expect(outcomes.map((o) => (o.kind === "moved" ? `moved:${o.to}` : o.kind === "unchanged" ? o.reason : o.kind))).toEqual([
      "moved:ringing",
      "moved:in_progress",
      "behind",
      "duplicate",
      "behind",
      "moved:completed",
      "finished",
      "finished",
      "finished",
    ]);
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "completed", finishedAt: expect.any(Date), errorCode: null });
    expect(await timeline(db, dial.id)).toEqual(["ringing", "in_progress", "completed"].map((status) => ({ status, attempt: 1, errorCode: null })));
  });

  test("the same reports handled concurrently have one effect each", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db);
    const outcomes = await Promise.all(["ringing", "ringing", "ringing", "in_progress", "in_progress"].map((status) => handle(report(status))));
    expect(outcomes.every((o) => o.kind === "ack")).toBe(true);
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "in_progress", finishedAt: null });
    const rows = await timeline(db, dial.id);
    expect(rows.filter((r) => r.status === "in_progress")).toHaveLength(1);
    expect(rows.filter((r) => r.status === "ringing").length).toBeLessThanOrEqual(1);
  });

  test("a failed call leaves provider_failed on the dial and its timeline", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db);
    await handle(report("failed"));
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "failed", errorCode: "provider_failed", errorMessage: expect.stringContaining(dial.providerCallId!), finishedAt: expect.any(Date) });
    expect(await timeline(db, dial.id)).toEqual([{ status: "failed", attempt: 1, errorCode: "provider_failed" }]);
  });

  test("a callback for an earlier attempt or another call is ignored", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db, { attempt: 2 });
    expect(appliedOf(await handle(report("completed", { attempt: 1 })))).toEqual({ kind: "ignored", reason: "stale_attempt" });
    expect(appliedOf(await handle(report("completed", { providerCallId: "CA-someone-else" })))).toEqual({ kind: "ignored", reason: "other_call" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "placed", attempt: 2 });
    expect(await timeline(db, dial.id)).toEqual([]);
  });

  test("a callback that overtakes the placer's commit sets the call id; a scheduled retry is not moved by a late callback", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db, { status: "placing", providerCallId: null });
    expect(appliedOf(await handle(report("ringing", { providerCallId: "CAovertaking" })))).toMatchObject({ kind: "moved", from: "placing", to: "ringing" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "ringing", providerCallId: "CAovertaking" });

    const waiting = await setup(db, { status: "scheduled" });
    expect(appliedOf(await waiting.handle(waiting.report("ringing")))).toMatchObject({ kind: "unchanged", reason: "not_under_way" });
  });

  test("a dial canceled by the API while ringing stays canceled, and the handler says to hang its call up", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db, { status: "ringing" });
    await db.dial.update({ where: { id: dial.id }, data: { status: "canceled", finishedAt: new Date() } });
    // The API's own announcement carries no call id: it still tells the dialer the call is live.
    expect(appliedOf(await handle(report("canceled", { providerCallId: "", attempt: 0 })))).toEqual({ kind: "hang_up", providerCallId: dial.providerCallId });
    expect(appliedOf(await handle(report("in_progress")))).toEqual({ kind: "hang_up", providerCallId: dial.providerCallId });
    expect(appliedOf(await handle(report("completed")))).toMatchObject({ kind: "unchanged", reason: "finished" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "canceled" });
  });

  test("a busy attempt with attempts left goes back to the queue a spacing later, and a late report of it changes nothing", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db, { status: "ringing", maxAttempts: 2 });
    const before = Date.now();
    expect(appliedOf(await handle(report("busy")))).toMatchObject({ kind: "requeued", from: "ringing", outcome: "busy" });
    const queued = await db.dial.findUniqueOrThrow({ where: { id: dial.id } });
    expect(queued).toMatchObject({ status: "queued", attempt: 1, errorCode: "busy", providerCallId: null, finishedAt: null });
    expect(queued.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + 60_000 - 1_000);
    expect(queued.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    // The same attempt's callbacks, late or again: forward only, so the queued dial stays queued.
    expect(appliedOf(await handle(report("busy")))).toMatchObject({ kind: "unchanged", reason: "not_under_way" });
    expect(appliedOf(await handle(report("completed")))).toMatchObject({ kind: "unchanged", reason: "not_under_way" });
    expect(await timeline(db, dial.id)).toEqual([{ status: "queued", attempt: 1, errorCode: "busy" }]);
  });

  test("the last attempt's no-answer ends the dial, as does a busy dial with one attempt", async ({ database: { db } }) => {
    const last = await setup(db, { status: "ringing", attempt: 2, maxAttempts: 2 });
    expect(appliedOf(await last.handle(last.report("no_answer")))).toMatchObject({ kind: "moved", to: "no_answer" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: last.dial.id } })).toMatchObject({ status: "no_answer", attempt: 2, finishedAt: expect.any(Date) });

    const single = await setup(db, { status: "ringing" });
    expect(appliedOf(await single.handle(single.report("busy")))).toMatchObject({ kind: "moved", to: "busy" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: single.dial.id } })).toMatchObject({ status: "busy", attempt: 1, finishedAt: expect.any(Date) });
  });

  test("a report that is no dial status is dead-lettered, and the dead letter leaves its error on an active dial", async ({ database: { db } }) => {
    const { dial, handle, onDeadLetter, report } = await setup(db, { status: "ringing" });
    const event = report("exploded");
    const outcome = await handle(event);
    expect(outcome).toMatchObject({ kind: "dead", code: "unknown_dial_status" });
    await onDeadLetter(event, { eventKey: "dialStatusChanged", reason: "terminated", errorCode: "unknown_dial_status", errorMessage: "no such status" });
    await onDeadLetter(event, { eventKey: "dialStatusChanged", reason: "terminated", errorCode: "unknown_dial_status", errorMessage: "no such status" });
    expect(await db.dial.findUniqueOrThrow({ where: { id: dial.id } })).toMatchObject({ status: "ringing", errorCode: STATUS_REPORT_LOST, errorMessage: expect.stringContaining("no such status") });
  });

  test("a recording callback queues the recording's fetch once, with the dial's id only on the event", async ({ database: { db } }) => {
    const { dial, handle, report } = await setup(db, { status: "completed" });
    expect(appliedOf(await handle(report("recording_ready", { recordingUrl: "https://api.twilio.com/rec" })))).toEqual({ kind: "recording_queued" });
    expect(appliedOf(await handle(report("recording_ready", { recordingUrl: "https://api.twilio.com/rec" })))).toEqual({ kind: "ignored", reason: "recording" });
    expect(await db.recordingFetch.findUniqueOrThrow({ where: { dialId: dial.id } })).toMatchObject({ status: "queued", attempt: 0, recordingUrl: "https://api.twilio.com/rec", callId: expect.any(String) });
    const queued = await db.outboxEvent.findMany({ where: { subject: topology().subject("dialRecordingFetchRequested") } });
    expect(queued.map((row) => decodeEvent("dialRecordingFetchRequested", row.payload))).toEqual([expect.objectContaining({ dialId: dial.id })]);
    // Another attempt's recording is not this dial's.
    expect(appliedOf(await handle(report("recording_ready", { recordingUrl: "https://api.twilio.com/other", attempt: dial.attempt + 1 })))).toEqual({ kind: "ignored", reason: "stale_attempt" });
  });
});
