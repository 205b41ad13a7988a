import { useEffect, useRef } from "react";
import type { Api } from "./client.ts";
import type { CallPhase, CallStatus, PhaseTime } from "./types.ts";

/**
 * GET /v1/calls/{id}/events, read with fetch: EventSource cannot send the Authorization header, and
 * the key never goes in a URL.
 */

export type ProgressEvent =
  | { event: "call"; data: { status: CallStatus; phase: CallPhase; phases: PhaseTime[]; failedStage: string | null; errorCode: string | null; errorMessage: string | null } }
  | { event: "phase"; data: { phase: CallPhase; phases: PhaseTime[] } }
  | { event: "stage"; data: { stage: string; audioVersion: number; status: string; attempt: number } }
  | { event: "chunks"; data: { byStatus: Record<string, number> } }
  | { event: "end"; data: { status: string } };

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Splits a text/event-stream into its events (the SSE framing; `retry` and `id` are not used here). */
export const createEventStreamParser = (onEvent: (event: ServerSentEvent) => void) => {
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  const line = (text: string) => {
    if (text === "") {
      if (data.length > 0) onEvent({ event, data: data.join("\n") });
      event = "message";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? "" : text.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  };
  return (chunk: string) => {
    buffer += chunk;
    // A CR at the end may be half of a CRLF whose LF is in the next chunk: it waits for it.
    const held = buffer.endsWith("\r") ? 1 : 0;
    const lines = buffer.slice(0, buffer.length - held).split(/\r\n|\r|\n/);
    buffer = (lines.pop() ?? "") + buffer.slice(buffer.length - held);
    for (const text of lines) line(text);
  };
};

const MAX_RECONNECT_MS = 30_000;

/**
 * Follows a call's progress until its `end` event (or `signal`). A dropped stream is opened again
 * after a delay that doubles up to 30 s; a 4xx answer (the call is gone, the key refused) ends it.
 */
export const followCall = async (api: Api, callId: string, onEvent: (event: ProgressEvent) => void, signal: AbortSignal): Promise<void> => {
  let delay = 1_000;
  while (!signal.aborted) {
    let ended = false;
    try {
      const response = await api.fetch(`/v1/calls/${encodeURIComponent(callId)}/events`, { signal, headers: { accept: "text/event-stream" } });
      if (response.status >= 400 && response.status < 500) return;
      if (response.ok && response.body) {
        const parse = createEventStreamParser((raw) => {
          delay = 1_000;
          const event = { event: raw.event, data: JSON.parse(raw.data) as unknown } as ProgressEvent;
          if (event.event === "end") ended = true;
          onEvent(event);
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parse(value);
        }
      }
    } catch {
      // The stream dropped (or was aborted): below decides whether to open it again.
    }
    if (ended || signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, MAX_RECONNECT_MS);
  }
};

/**
 * Follows each call in `callIds` while the component shows it: a stream opens for a call that joins
 * the set and closes for one that leaves it. `onEvent` may change between renders.
 */
export const useCallProgress = (api: Api, callIds: readonly string[], onEvent: (callId: string, event: ProgressEvent) => void): void => {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const streams = useRef(new Map<string, AbortController>());
  const key = [...callIds].sort().join(",");
  useEffect(() => {
    const wanted = new Set(key === "" ? [] : key.split(","));
    for (const [id, controller] of streams.current) {
      if (!wanted.has(id)) {
        controller.abort();
        streams.current.delete(id);
      }
    }
    for (const id of wanted) {
      if (streams.current.has(id)) continue;
      const controller = new AbortController();
      streams.current.set(id, controller);
      void followCall(api, id, (event) => handler.current(id, event), controller.signal).finally(() => {
        if (streams.current.get(id) === controller) streams.current.delete(id);
      });
    }
  }, [api, key]);
  useEffect(() => {
    const open = streams.current;
    return () => {
      for (const controller of open.values()) controller.abort();
      open.clear();
    };
  }, []);
};
