import { describe, expect, it } from "vitest";
import { consumers, topology } from "./topology.ts";
import { events, type EventKey } from "./events.ts";

describe("topology", () => {
  it("names streams, subjects and durables inside one namespace", () => {
    const t = topology("t_abc");
    expect(t.stream("calls")).toBe("T_ABC_CALLS");
    expect(t.streamSubjects("calls")).toBe("t_abc.calls.>");
    expect(t.subject("chunkReady")).toBe("t_abc.calls.transcribe.chunk_ready");
    expect(t.consumer("aggregator")).toEqual({ stream: "T_ABC_CALLS", durable: "t_abc_aggregator", filterSubject: "t_abc.calls.ledger.>" });
    expect(t.eventForSubject("t_abc.calls.transcribed")).toBe("callTranscribed");
    expect(t.eventForSubject("callflow.calls.transcribed")).toBeUndefined();
  });

  it("gives every event a subject inside its stream and at least one consumer or a documented reader", () => {
    const t = topology();
    for (const key of Object.keys(events) as EventKey[]) {
      const subject = t.subject(key);
      const streamPrefix = t.streamSubjects(events[key].stream).replace(">", "");
      expect(subject.startsWith(streamPrefix), `${key} in its stream`).toBe(true);
    }
    const matches = (filter: string, subject: string) => {
      const f = filter.split(".");
      const s = subject.split(".");
      return f.every((part, i) => part === ">" || part === "*" || part === s[i]) && (f.at(-1) === ">" || f.length === s.length);
    };
    for (const key of ["chunkReady", "chunkTranscribed", "chunkFailed", "callUploadFinished", "callTranscribed", "callMerged", "callSummarized", "dialRequested", "dialStatusChanged"] as const) {
      const readers = Object.keys(consumers).filter((c) => matches(t.consumer(c as never).filterSubject, t.subject(key)));
      expect(readers.length, `${key} has a consumer`).toBeGreaterThan(0);
    }
  });

  it("refuses a namespace that would make invalid stream names", () => {
    expect(() => topology("Bad.Name")).toThrow(/namespace must match/);
  });
});
