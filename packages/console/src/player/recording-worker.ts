/**
 * The recording worker: a service worker that lets the <audio> element stream a call's recording from
 * the API with Range requests (seeking without downloading the whole file), although an element cannot
 * send an Authorization header and the key must never go in a URL. It adds the header to the
 * element's requests for /v1/calls/{id}/recording, asking the page it serves for the key each time, so
 * the key lives only in the page's session storage. Every other request passes untouched.
 */
const worker = self as unknown as ServiceWorkerGlobalScope;

const RECORDING_PATH = /^\/v1\/calls\/[^/]+\/recording$/;
const ASK_KEY = "callflow.recording-key";
const KEY_WAIT_MS = 5_000;

worker.addEventListener("install", () => void worker.skipWaiting());
worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

const askForKey = async (clientId: string): Promise<string | null> => {
  const client = (clientId ? await worker.clients.get(clientId) : undefined) ?? (await worker.clients.matchAll({ type: "window" }))[0];
  if (!client) return null;
  const channel = new MessageChannel();
  const answer = new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), KEY_WAIT_MS);
    channel.port1.onmessage = (message: MessageEvent<unknown>) => {
      clearTimeout(timer);
      resolve(typeof message.data === "string" && message.data !== "" ? message.data : null);
    };
  });
  client.postMessage({ type: ASK_KEY }, [channel.port2]);
  return answer;
};

const withKey = async (event: FetchEvent): Promise<Response> => {
  const key = await askForKey(event.clientId);
  if (!key) {
    return new Response(JSON.stringify({ error: { code: "unauthenticated", message: "the console is signed out; sign in again" } }), {
      status: 401,
      headers: { "content-type": "application/json" },
    });
  }
  const headers = new Headers(event.request.headers);
  headers.set("authorization", `Bearer ${key}`);
  return fetch(event.request.url, { method: "GET", headers, cache: "no-store", signal: event.request.signal });
};

worker.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== worker.location.origin || !RECORDING_PATH.test(url.pathname) || event.request.headers.has("authorization")) return;
  event.respondWith(withKey(event));
});
