import { storedKey } from "../session.tsx";

/**
 * How the player gets a ready recording's bytes. Where the recording worker controls the page (a
 * secure context: https, or http on localhost), the <audio> element streams the API's URL itself,
 * seeking with Range requests, and the worker adds the key. Elsewhere the player downloads the
 * recording once, with the key, and plays it from memory.
 */
export type RecordingTransport = "stream" | "download";

const WORKER_URL = "/console/recording-worker.js";
/** Must match recording-worker.ts, which imports nothing so that it stays one classic script. */
const ASK_KEY = "callflow.recording-key";
const CONTROL_WAIT_MS = 3_000;

let registration: Promise<RecordingTransport> = Promise.resolve("download");

/** Registers the worker at start (built assets only: the dev server does not serve it). */
export const registerRecordingWorker = (): void => {
  if (!import.meta.env.PROD || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  // The worker asks for the key on each recording request; the page answers with the one it holds.
  navigator.serviceWorker.addEventListener("message", (event: MessageEvent<unknown>) => {
    const data = event.data as { type?: unknown } | null;
    if (data?.type === ASK_KEY) event.ports[0]?.postMessage(storedKey() ?? "");
  });
  registration = navigator.serviceWorker
    .register(WORKER_URL, { scope: "/console/" })
    .then(async () => {
      await navigator.serviceWorker.ready;
      if (navigator.serviceWorker.controller) return "stream" as const;
      // The first visit: the worker claims the page once it is active.
      return new Promise<RecordingTransport>((resolve) => {
        const timer = setTimeout(() => resolve("download"), CONTROL_WAIT_MS);
        navigator.serviceWorker.addEventListener("controllerchange", () => {
          clearTimeout(timer);
          resolve("stream");
        });
      });
    })
    .catch(() => "download" as const);
};

export const recordingTransport = (): Promise<RecordingTransport> => registration;
