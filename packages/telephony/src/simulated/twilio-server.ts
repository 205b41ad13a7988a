import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { playOut } from "./call-playout.ts";
import { CallbackLine, type CallbackDelivery, type CallbackFaults } from "./callback-line.ts";
import { outcomeFor } from "./number-table.ts";
import { callJson, errorJson, listPage, newSid, recordingJson, type SimulatedCall, type SimulatedRecording } from "./twilio-resources.ts";
import { toneWav, wavDurationSeconds } from "./wav.ts";

export interface TwilioServerOptions {
  /** Default: a new random `AC…` sid. */
  accountSid?: string;
  /** Signs callbacks and guards the API (basic auth); default: random. */
  authToken?: string;
  /** Default 0: a free port, on 127.0.0.1. */
  port?: number;
  /** Between one status of a call and the next; default 20 ms. */
  stepMs?: number;
  /** The Retry-After of number 0006's 429, in seconds; default 1. */
  retryAfterSeconds?: number;
  /** An answered call's recording as WAV bytes; default a 2-second 8 kHz tone. */
  recording?: (call: SimulatedCall) => Promise<Buffer>;
  faults?: Partial<CallbackFaults>;
  /** How long an accepted call's 201 is held back after the call exists; default 0. */
  createDelayMs?: number;
}

/** How the REST API answers, read at each request: a test changes them between steps. */
export interface ApiAnswers {
  /**
   * An accepted call exists (and plays out) at once, but its 201 comes this much later: the window in
   * which a dialer killed mid-placement leaves a call it never heard of.
   */
  createDelayMs: number;
  /** The next this many recording downloads (media, not `.json`) answer 500, as Twilio's API does in an outage. */
  recordingFailures: number;
  /** The next this many recording downloads announce their whole length, send half of it and drop the connection. */
  recordingCuts: number;
}

/** A local server speaking Twilio's Programmable Voice REST API, its callbacks and its recordings. */
export interface TwilioServer {
  readonly baseUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly calls: ReadonlyMap<string, SimulatedCall>;
  readonly recordings: ReadonlyMap<string, SimulatedRecording>;
  /** Every callback Twilio would have attempted, in the order attempted. */
  readonly deliveries: readonly CallbackDelivery[];
  /** Applied to callbacks sent from now on; change them between steps of a test. */
  readonly faults: CallbackFaults;
  /** Applied to REST requests from now on. */
  readonly answers: ApiAnswers;
  /** Recordings that could not be made (their calls completed without one). */
  readonly errors: readonly Error[];
  /** Resolves once every call has played out and every callback has been answered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
};

/** Form parameters; a name given more than once (StatusCallbackEvent) keeps all its values. */
const formParams = (form: URLSearchParams): Record<string, string | string[]> => {
  const params: Record<string, string | string[]> = {};
  for (const name of new Set(form.keys())) {
    const all = form.getAll(name);
    params[name] = all.length === 1 ? all[0]! : all;
  }
  return params;
};

const newestFirst = <T extends { dateCreated: Date }>(items: Iterable<T>): T[] => [...items].reverse().sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime());

export async function startTwilioServer(options: TwilioServerOptions = {}): Promise<TwilioServer> {
  const accountSid = options.accountSid ?? `AC${randomBytes(16).toString("hex")}`;
  const authToken = options.authToken ?? randomBytes(16).toString("hex");
  const expectedAuth = Buffer.from(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`);
  const closing = new AbortController();
  const calls = new Map<string, SimulatedCall>();
  const recordings = new Map<string, SimulatedRecording>();
  const deliveries: CallbackDelivery[] = [];
  const errors: Error[] = [];
  const faults: CallbackFaults = { lose: [], duplicate: [], order: "as-they-happen", delayMs: 0, ...options.faults };
  const answers: ApiAnswers = { createDelayMs: options.createDelayMs ?? 0, recordingFailures: 0, recordingCuts: 0 };
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    pending.add(work);
    const forget = () => pending.delete(work);
    work.then(forget, forget);
  };
  const line = new CallbackLine({ authToken, faults, deliveries, signal: closing.signal, track });
  const makeRecording = options.recording ?? (async () => toneWav());
  let baseUrl = "";

  const record = async (call: SimulatedCall): Promise<SimulatedRecording | undefined> => {
    try {
      const wav = await makeRecording(call);
      const recording = { sid: newSid("RE"), callSid: call.sid, wav, durationSeconds: wavDurationSeconds(wav), dateCreated: new Date() };
      recordings.set(recording.sid, recording);
      return recording;
    } catch (error) {
      errors.push(error instanceof Error ? error : new Error(String(error)));
      return undefined;
    }
  };

  const authorized = (req: IncomingMessage, pathAccount: string): boolean => {
    const given = Buffer.from(req.headers.authorization ?? "");
    return pathAccount === accountSid && given.length === expectedAuth.length && timingSafeEqual(given, expectedAuth);
  };

  const notFound = (res: ServerResponse, path: string) => send(res, 404, errorJson(404, 20404, `The requested resource ${path} was not found`));

  const createCall = async (res: ServerResponse, body: string) => {
    const form = new URLSearchParams(body);
    const to = form.get("To");
    const from = form.get("From");
    if (!to) return send(res, 400, errorJson(400, 21201, "No 'To' number is specified"));
    if (!from) return send(res, 400, errorJson(400, 21213, "No 'From' number is specified"));
    if (!form.get("Url") && !form.get("Twiml") && !form.get("ApplicationSid")) return send(res, 400, errorJson(400, 21205, "Either Url, Twiml or ApplicationSid is required"));
    const outcome = outcomeFor(to);
    if (outcome.kind === "hangs") return;
    if (outcome.kind === "refused") {
      const headers: Record<string, string> = outcome.retryAfter ? { "retry-after": String(options.retryAfterSeconds ?? 1) } : {};
      return send(res, outcome.status, errorJson(outcome.status, outcome.code, outcome.message), headers);
    }
    const now = new Date();
    const call: SimulatedCall = {
      sid: newSid("CA"), accountSid, to, from, status: "queued", dateCreated: now, dateUpdated: now,
      startTime: undefined, endTime: undefined, durationSeconds: undefined, params: formParams(form), events: [], hangUp: new AbortController(),
    };
    calls.set(call.sid, call);
    const playout = playOut(call, outcome.ending, outcome.callbacksArrive, { baseUrl, stepMs: options.stepMs ?? 20, signal: closing.signal, line, record });
    track(playout.catch((error: unknown) => {
      if (!closing.signal.aborted) errors.push(error instanceof Error ? error : new Error(String(error)));
    }));
    if (answers.createDelayMs > 0) await delay(answers.createDelayMs, undefined, { signal: closing.signal }).catch(() => undefined);
    if (!res.destroyed) send(res, 201, callJson(call));
  };

  const listCalls = (res: ServerResponse, url: URL) => {
    const q = url.searchParams;
    const after = q.get("StartTime>") ? Date.parse(q.get("StartTime>")!) : undefined;
    const before = q.get("StartTime<") ? Date.parse(q.get("StartTime<")!) : undefined;
    const matching = newestFirst(calls.values()).filter(
      (call) =>
        (!q.get("To") || call.to === q.get("To")) &&
        (!q.get("From") || call.from === q.get("From")) &&
        (!q.get("Status") || call.status === q.get("Status")) &&
        (after === undefined || (call.startTime !== undefined && call.startTime.getTime() >= after)) &&
        (before === undefined || (call.startTime !== undefined && call.startTime.getTime() < before)),
    );
    send(res, 200, listPage("calls", matching.map(callJson), url));
  };

  const serveRecording = (res: ServerResponse, path: string, sid: string, extension: string | undefined) => {
    const recording = recordings.get(sid);
    if (!recording || (extension !== undefined && extension !== ".json" && extension !== ".wav")) return notFound(res, path);
    if (extension === ".json") return send(res, 200, recordingJson(recording, accountSid, baseUrl));
    if (answers.recordingFailures > 0) {
      answers.recordingFailures -= 1;
      return send(res, 500, errorJson(500, 20500, "Internal Server Error"));
    }
    res.writeHead(200, { "content-type": "audio/x-wav", "content-length": String(recording.wav.length) });
    if (answers.recordingCuts > 0) {
      answers.recordingCuts -= 1;
      res.write(recording.wav.subarray(0, Math.floor(recording.wav.length / 2)), () => res.destroy());
      return;
    }
    res.end(recording.wav);
  };

  /** Twilio's call update, for its hang-up: `Status=completed` ends a call in progress, `canceled` a queued or ringing one. */
  const updateCall = (res: ServerResponse, path: string, sid: string, body: string) => {
    const call = calls.get(sid);
    if (!call) return notFound(res, path);
    const status = new URLSearchParams(body).get("Status");
    if (status !== "completed" && status !== "canceled") return send(res, 400, errorJson(400, 21218, `Status must be completed or canceled, not ${status ?? "missing"}`));
    const live = call.status === "in-progress" ? status === "completed" : call.status === "queued" || call.status === "ringing";
    if (!live) return send(res, 400, errorJson(400, 21220, `Call is not ${status === "completed" ? "in-progress" : "queued or ringing"}: ${call.status}`));
    call.hangUp.abort();
    return send(res, 200, callJson(call));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", baseUrl);
    const body = await readBody(req);
    const account = /^\/2010-04-01\/Accounts\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!account) return notFound(res, url.pathname);
    if (!authorized(req, account[1]!)) {
      return send(res, 401, errorJson(401, 20003, "Authenticate"), { "www-authenticate": 'Basic realm="Twilio API"' });
    }
    const rest = account[2]!;
    let m: RegExpExecArray | null;
    if (req.method === "POST" && rest === "/Calls.json") return createCall(res, body);
    if (req.method === "POST" && (m = /^\/Calls\/(CA\w+)\.json$/.exec(rest))) return updateCall(res, url.pathname, m[1]!, body);
    if (req.method !== "GET") return send(res, 405, errorJson(405, 20004, "Method not allowed"));
    if (rest === "/Calls.json") return listCalls(res, url);
    if ((m = /^\/Calls\/(CA\w+)\.json$/.exec(rest))) {
      const call = calls.get(m[1]!);
      return call ? send(res, 200, callJson(call)) : notFound(res, url.pathname);
    }
    if ((m = /^\/Calls\/(CA\w+)\/Events\.json$/.exec(rest))) {
      const call = calls.get(m[1]!);
      return call ? send(res, 200, listPage("events", call.events, url)) : notFound(res, url.pathname);
    }
    if ((m = /^(?:\/Calls\/(CA\w+))?\/Recordings\.json$/.exec(rest))) {
      const callSid = m[1] ?? url.searchParams.get("CallSid");
      const matching = newestFirst(recordings.values()).filter((recording) => !callSid || recording.callSid === callSid);
      return send(res, 200, listPage("recordings", matching.map((recording) => recordingJson(recording, accountSid, baseUrl)), url));
    }
    if ((m = /^\/Recordings\/(RE\w+?)(\.\w+)?$/.exec(rest))) return serveRecording(res, url.pathname, m[1]!, m[2]);
    return notFound(res, url.pathname);
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      send(res, 500, errorJson(500, 20500, `simulated Twilio failed: ${error instanceof Error ? error.message : String(error)}`));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const settled = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return {
    baseUrl,
    accountSid,
    authToken,
    calls,
    recordings,
    deliveries,
    faults,
    answers,
    errors,
    settled,
    close: async () => {
      closing.abort();
      // Hanging requests (number 0007) hold their sockets open until now.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await settled();
    },
  };
}

/** The telephony variables that point a service's Twilio adapter at a local Twilio-speaking server. */
export const twilioEnvFor = (server: Pick<TwilioServer, "accountSid" | "authToken" | "baseUrl">): Record<string, string> => ({
  CALLFLOW_TELEPHONY_PROVIDER: "twilio",
  CALLFLOW_TWILIO_ACCOUNT_SID: server.accountSid,
  CALLFLOW_TWILIO_AUTH_TOKEN: server.authToken,
  CALLFLOW_TWILIO_FROM_NUMBER: "+15550100000",
  CALLFLOW_TWILIO_API_BASE_URL: server.baseUrl,
});
