import { useEffect, useRef, useState } from "react";
import { ApiError, type Api } from "../api/client.ts";

/** Calls `tick` every `ms` while the page is visible; `ms` null stops it. */
export const useInterval = (tick: () => void, ms: number | null): void => {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") latest.current();
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
};

/** The time, re-read every `ms` while `enabled`: for ages and countdowns that move on screen. */
export const useNow = (ms: number, enabled = true): number => {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), enabled ? ms : null);
  return now;
};

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

const asApiError = (error: unknown): ApiError => (error instanceof ApiError ? error : new ApiError(0, "unexpected", error instanceof Error ? error.message : String(error)));

/**
 * GET `path` as JSON; again every `refreshMs` while the page is visible (live lists), keeping what is
 * shown until the new answer replaces it. A new path drops the old path's data.
 */
export const useLoad = <T>(api: Api, path: string | null, refreshMs: number | null = null): Loaded<T> => {
  const [state, setState] = useState<{ path: string | null; data?: T; error?: ApiError; loading: boolean }>({ path, loading: path !== null });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setState((previous) => (previous.path === path ? { ...previous, loading: true } : { path, loading: true }));
    api.get<T>(path, controller.signal).then(
      (data) => setState({ path, data, loading: false }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState((previous) => ({ path, data: previous.path === path ? previous.data : undefined, error: asApiError(error), loading: false }));
      },
    );
    return () => controller.abort();
  }, [api, path, round]);
  useInterval(() => setRound((n) => n + 1), path === null ? null : refreshMs);
  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload: () => setRound((n) => n + 1),
  };
};

/** A button's action against the API: its running state and the error it ended with. */
export const useAction = <A extends unknown[], R>(action: (...args: A) => Promise<R>) => {
  const [state, setState] = useState<{ running: boolean; error?: ApiError; result?: R }>({ running: false });
  const run = async (...args: A): Promise<R | undefined> => {
    setState({ running: true });
    try {
      const result = await action(...args);
      setState({ running: false, result });
      return result;
    } catch (error) {
      setState({ running: false, error: asApiError(error) });
      return undefined;
    }
  };
  return { ...state, run, reset: () => setState({ running: false }) };
};

/** `action` at most once per `ms`, however often it is asked for (progress events arriving in bursts). */
export const useCoalesced = (action: () => void, ms: number): (() => void) => {
  const latest = useRef(action);
  latest.current = action;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  };
};
