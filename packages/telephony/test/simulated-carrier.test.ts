import { createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { validateRequest } from "twilio/lib/webhooks/webhooks.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { probeAudio } from "@callflow/media";
import { waitFor } from "@callflow/testkit";
import { openTelephony, telephonyConfigFromEnv } from "../src/config.ts";
import { createSimulatedCarrier, SIMULATED_ACCOUNT_SID, type SimulatedCarrier } from "../src/simulated/simulated-carrier.ts";
import type { CallFacts } from "../src/port.ts";
import { startCallbackReceiver } from "./support/callback-receiver.ts";

const TURNS = [
  { speaker: "agent", text: "Hello, this is the clinic calling to confirm your appointment tomorrow." },
  { speaker: "customer", text: "Yes, I will be there at nine. Thank you." },
] as const;

describe("the simulated carrier", () => {
  let dir: string;
  let carrier: SimulatedCarrier | undefined;
  let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "callflow-carrier-test-"));
    receiver = await startCallbackReceiver();
  });
  afterEach(async () => {
    await carrier?.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  const answeredCall = async (dialId: string): Promise<CallFacts> => {
    const placed = await carrier!.placeCall({
      marker: { dialId, attempt: 1 },
      to: "+14155550001",
      statusCallbackUrl: `${receiver.url}/v1/webhooks/twilio`,
      recordingStatusCallbackUrl: `${receiver.url}/v1/webhooks/twilio`,
    });
    return waitFor(
      `call ${placed.providerCallId} completed with a recording`,
      async () => {
        const facts = await carrier!.getCall(placed.providerCallId);
        return facts.recordingUrl ? facts : undefined;
      },
      { timeoutMs: 50_000, intervalMs: 100 },
    );
  };

  it("records answered calls as a festival conversation through an 8 kHz phone line, synthesized once and cached", async () => {
    const cacheDir = path.join(dir, "cache");
    carrier = await createSimulatedCarrier({ recordingCacheDir: cacheDir, stepMs: 10, conversation: TURNS });
    expect(carrier.account).toBe(`twilio:${SIMULATED_ACCOUNT_SID}`);
    // Nothing is synthesized until a call is answered.
    await expect(readdir(cacheDir)).rejects.toMatchObject({ code: "ENOENT" });

    const facts = await answeredCall("dial-1");
    const recording = await carrier.openRecording(facts.recordingUrl!);
    const file = path.join(dir, "recording.wav");
    await pipeline(recording.body, createWriteStream(file));
    const probed = await probeAudio({ ffprobe: "ffprobe", timeoutMs: 30_000 }, file);
    expect(probed).toMatchObject({ sampleRateHz: 8_000, channels: 1, codec: "pcm_s16le" });
    expect(probed.durationSeconds).toBeGreaterThan(4);
    expect(facts.durationSeconds).toBe(Math.ceil(probed.durationSeconds));

    const [cached] = await readdir(cacheDir);
    const before = await stat(path.join(cacheDir, cached!));
    await answeredCall("dial-2");
    expect(await readdir(cacheDir)).toEqual([cached]);
    expect((await stat(path.join(cacheDir, cached!))).mtimeMs).toBe(before.mtimeMs);

    // Its callbacks are signed with the carrier's token, which ingest is given to check them.
    await carrier.server.settled();
    expect(receiver.received.length).toBe(10);
    for (const callback of receiver.received) expect(validateRequest(carrier.authToken, callback.signature ?? "", callback.url, callback.params)).toBe(true);
  });

  it("is what openTelephony gives with no configuration, signing with the configured token", async () => {
    const telephony = await openTelephony(telephonyConfigFromEnv({ CALLFLOW_TWILIO_AUTH_TOKEN: "shared-with-ingest" }));
    try {
      const placed = await telephony.placeCall({
        marker: { dialId: "dial-busy", attempt: 1 },
        to: "+14155550002",
        statusCallbackUrl: `${receiver.url}/v1/webhooks/twilio`,
        recordingStatusCallbackUrl: `${receiver.url}/v1/webhooks/twilio`,
      });
      await waitFor("the busy callback", () => receiver.received.find((callback) => callback.params.CallStatus === "busy"));
      expect(await telephony.getCall(placed.providerCallId)).toEqual({ status: "busy", durationSeconds: 0 });
      for (const callback of receiver.received) expect(validateRequest("shared-with-ingest", callback.signature ?? "", callback.url, callback.params)).toBe(true);
    } finally {
      await telephony.close();
    }
  });
});
