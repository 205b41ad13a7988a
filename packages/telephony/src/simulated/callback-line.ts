import { createHmac, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { rfc2822, type SimulatedCall } from "./twilio-resources.ts";

/** The callbacks of a call: its status callback events, and the recording status callback. */
export type CallbackKind = "initiated" | "ringing" | "answered" | "completed" | "recording";

/** Ways callbacks go wrong on the way, as they do on the internet. Changed by tests between steps. */
export interface CallbackFaults {
  /** Never delivered; Twilio's attempt still shows in the call's events. */
  lose: CallbackKind[];
  /** Delivered twice, identically (same signature, same idempotency token). */
  duplicate: CallbackKind[];
  /** `reversed`: a call's callbacks are held until its last one, then delivered last first. */
  order: "as-they-happen" | "reversed";
  /** Waited before each delivery. */
  delayMs: number;
}

export interface CallbackDelivery {
  readonly callSid: string;
  readonly kind: CallbackKind;
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly signature: string;
  /** The receiver's HTTP status; `lost` when a fault dropped it; `unreachable` when nothing answered. */
  readonly outcome: number | "lost" | "unreachable";
}

export interface Callback {
  readonly kind: CallbackKind;
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * `X-Twilio-Signature` as Twilio computes it: base64 of HMAC-SHA1, keyed with the auth token, over
 * the full URL followed by every POST parameter sorted by name, each name then its value.
 */
export const twilioSignature = (authToken: string, url: string, params: Readonly<Record<string, string>>): string =>
  createHmac("sha1", authToken)
    .update(url + Object.keys(params).sort().map((name) => name + params[name]).join(""))
    .digest("base64");

/** Twilio gives a callback 15 seconds. */
const RECEIVER_TIMEOUT_MS = 15_000;

/** Sends each call's callbacks in turn, signed, applying the faults in force when each is sent. */
export class CallbackLine {
  private readonly perCall = new Map<string, { chain: Promise<void>; held: Callback[] }>();

  constructor(
    private readonly deps: {
      authToken: string;
      faults: CallbackFaults;
      deliveries: CallbackDelivery[];
      /** Aborted when the server closes. */
      signal: AbortSignal;
      /** Keeps each delivery in the server's settled() set. */
      track(work: Promise<void>): void;
    },
  ) {}

  /** `arrives: false`: Twilio tries, the network loses it (number 0008). */
  send(call: SimulatedCall, callback: Callback, arrives: boolean): void {
    const line = this.line(call);
    if (this.deps.faults.order === "reversed") line.held.push(callback);
    else this.enqueue(call, callback, arrives);
  }

  /** The call will send no more callbacks: held ones go now, last first. */
  end(call: SimulatedCall, arrives: boolean): void {
    const line = this.line(call);
    for (const callback of line.held.reverse()) this.enqueue(call, callback, arrives);
    line.held = [];
  }

  private line(call: SimulatedCall) {
    let line = this.perCall.get(call.sid);
    if (!line) this.perCall.set(call.sid, (line = { chain: Promise.resolve(), held: [] }));
    return line;
  }

  private enqueue(call: SimulatedCall, callback: Callback, arrives: boolean): void {
    const line = this.line(call);
    line.chain = line.chain.then(() => this.deliver(call, callback, arrives)).catch(() => undefined);
    this.deps.track(line.chain);
  }

  private async deliver(call: SimulatedCall, callback: Callback, arrives: boolean): Promise<void> {
    const { faults, signal } = this.deps;
    if (faults.delayMs > 0) await sleep(faults.delayMs, undefined, { signal });
    const signature = twilioSignature(this.deps.authToken, callback.url, callback.params);
    const idempotencyToken = `${call.sid}-${randomUUID()}`;
    const copies = faults.duplicate.includes(callback.kind) ? 2 : 1;
    const lost = !arrives || faults.lose.includes(callback.kind);
    for (let copy = 0; copy < copies; copy++) {
      const started = Date.now();
      let outcome: CallbackDelivery["outcome"] = "lost";
      let body: string | null = null;
      if (!lost) {
        try {
          const response = await fetch(callback.url, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              "x-twilio-signature": signature,
              "i-twilio-idempotency-token": idempotencyToken,
              "user-agent": "TwilioProxy/1.1",
            },
            body: new URLSearchParams(callback.params),
            signal: AbortSignal.any([AbortSignal.timeout(RECEIVER_TIMEOUT_MS), signal]),
          });
          body = await response.text();
          outcome = response.status;
        } catch {
          outcome = "unreachable";
        }
      }
      call.events.push({
        request: { method: "POST", url: callback.url, parameters: { ...callback.params } },
        response: {
          response_code: typeof outcome === "number" ? outcome : null,
          response_body: body,
          request_duration: typeof outcome === "number" ? Date.now() - started : null,
          date_created: rfc2822(new Date()) ?? "",
          content_type: typeof outcome === "number" ? "text/xml" : null,
        },
      });
      this.deps.deliveries.push({ callSid: call.sid, kind: callback.kind, url: callback.url, params: callback.params, signature, outcome });
    }
  }
}
