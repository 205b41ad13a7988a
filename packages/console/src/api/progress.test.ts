import { describe, expect, it } from "vitest";
import { createEventStreamParser, type ServerSentEvent } from "./progress.ts";

describe("the progress stream's framing", () => {
  it("splits events however the bytes arrive, skipping comments and the retry field", () => {
    const events: ServerSentEvent[] = [];
    const parse = createEventStreamParser((event) => events.push(event));
    const stream = 'retry: 1000\n\nid: 1\nevent: call\ndata: {"status":"processing"}\n\n: keep-alive\n\nid: 2\r\nevent: end\r\ndata: {"status":\r\ndata: "completed"}\r\n\r\n';
    for (let i = 0; i < stream.length; i += 7) parse(stream.slice(i, i + 7));
    expect(events).toEqual([
      { event: "call", data: '{"status":"processing"}' },
      { event: "end", data: '{"status":\n"completed"}' },
    ]);
  });
});
