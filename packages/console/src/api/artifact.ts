import { useEffect, useRef, useState } from "react";
import { errorOf, type Api } from "./client.ts";
import type { PendingArtifact } from "./types.ts";

/**
 * A call's transcript, summary or recording as the API's contract gives it (docs/design.md,
 * invariant 10): 200 when ready; 202 with Retry-After while work progresses; 404 when it will never
 * exist; a terminal error with its code once the work failed. Only a 202 is asked again, and only
 * after its Retry-After: every other answer ends the asking, so nothing here can loop.
 */
export type ArtifactState<T> =
  | { kind: "asking" }
  | { kind: "ready"; value: T }
  | { kind: "pending"; message: string; retryAfterSeconds: number; askAgainAt: number }
  | { kind: "absent"; code: string; message: string }
  | { kind: "failed"; status: number; code: string; message: string }
  | { kind: "unreachable"; message: string };

/** Seconds to wait before asking again: Retry-After (seconds or an HTTP date), else the body's, and never less than 1. */
export const retryAfterSeconds = (header: string | null, fromBody: number | undefined, now: number = Date.now()): number => {
  let seconds = Number.NaN;
  if (header !== null && header.trim() !== "") {
    seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - now) / 1000;
  }
  if (!Number.isFinite(seconds)) seconds = fromBody ?? Number.NaN;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 1;
};

/** What one answer means; `readReady` takes the value out of a 200 (or a 206 to a range request). */
export const artifactAnswer = async <T>(response: Response, readReady: (response: Response) => Promise<T>, now: number = Date.now()): Promise<ArtifactState<T>> => {
  if (response.status === 200 || response.status === 206) return { kind: "ready", value: await readReady(response) };
  if (response.status === 202) {
    const body = (await response.json().catch(() => null)) as Partial<PendingArtifact> | null;
    const seconds = retryAfterSeconds(response.headers.get("retry-after"), body?.retryAfterSeconds, now);
    return { kind: "pending", message: body?.message ?? "being prepared", retryAfterSeconds: seconds, askAgainAt: now + seconds * 1000 };
  }
  const error = await errorOf(response);
  if (response.status === 404) return { kind: "absent", code: error.code, message: error.message };
  return { kind: "failed", status: response.status, code: error.code, message: error.message };
};

/**
 * Asks for `path` and follows the contract until a final answer. `askAgain()` starts over (a person's
 * click after an error); `path` null asks nothing.
 */
export const useArtifact = <T>(
  api: Api,
  path: string | null,
  readReady: (response: Response) => Promise<T>,
  headers: Record<string, string> = {},
): { state: ArtifactState<T>; askAgain: () => void } => {
  const [state, setState] = useState<ArtifactState<T>>({ kind: "asking" });
  const [round, setRound] = useState(0);
  // The latest reader and headers, without making every render a new request.
  const request = useRef({ readReady, headers });
  request.current = { readReady, headers };

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      try {
        const response = await api.fetch(path, { signal: controller.signal, headers: request.current.headers });
        const next = await artifactAnswer(response, request.current.readReady);
        if (controller.signal.aborted) return;
        setState(next);
        if (next.kind === "pending") timer = setTimeout(() => void ask(), next.retryAfterSeconds * 1000);
      } catch (error) {
        if (controller.signal.aborted) return;
        setState({ kind: "unreachable", message: error instanceof Error ? error.message : String(error) });
      }
    };
    setState({ kind: "asking" });
    void ask();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, path, round]);

  return { state, askAgain: () => setRound((n) => n + 1) };
};
