import { startTwilioServer, twilioEnvFor, type TwilioServer } from "@callflow/telephony";
import { describe, expect, test, waitFor, type TestBucket, type TestDatabase, type TestNamespace } from "@callflow/testkit";
import { pipelineEnv } from "./support/pipeline-env.ts";
import { startStack, type Stack } from "../src/stack.ts";

const ANSWERED = "+14155550001";
const BUSY = "+14155550002";

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { attempt?: { current: number; max: number }; message?: string; error?: { code: string; message: string } } | null;
}

/** Every service in this process, dialling through the local Twilio-speaking server (the production adapter, knobs for its faults). */
const startDialStack = (database: TestDatabase, messaging: TestNamespace, storage: TestBucket, twilio: TwilioServer): Promise<Stack> =>
  startStack(
    {
      ...pipelineEnv(database, messaging, storage),
      ...twilioEnvFor(twilio),
      CALLFLOW_DIALER_RECORDING_RETRY_MS: "1500",
      CALLFLOW_DIALER_RECONCILE_INTERVAL_MS: "500",
      CALLFLOW_DIALER_RECORDING_WAIT_MS: "1000",
    },
    { randomPorts: true },
  );

describe("a placed call's recording, as the player sees it over HTTP", () => {
  test(
    "404 for an unanswered call; 202 with Retry-After and the attempt while fetches fail, the terminal code after the third, and a retry that re-opens it",
    async ({ database, messaging, storage }) => {
      const twilio = await startTwilioServer({ stepMs: 20 });
      const stack = await startDialStack(database, messaging, storage, twilio);
      try {
        const api = (path: string, init: RequestInit = {}) =>
          fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) } });
        const dial = async (to: string, campaign: string) => ((await (await api("/v1/dials", { method: "POST", body: JSON.stringify({ to, campaign }) })).json()) as { id: string }).id;
        const recordingOf = async (dialId: string): Promise<Answer> => {
          const response = await api(`/v1/dials/${dialId}/recording?redirect=false`);
          const text = await response.text();
          return { status: response.status, retryAfter: response.headers.get("retry-after"), body: response.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as Answer["body"]) : null };
        };

        const busy = await dial(BUSY, "unanswered");
        await waitFor("the busy dial finished", async () => (await database.db.dial.findUnique({ where: { id: busy } }))?.status === "busy", { timeoutMs: 60_000 });
        expect(await recordingOf(busy)).toMatchObject({ status: 404, body: { error: { code: "no_recording" } } });

        twilio.answers.recordingFailures = 3;
        const failing = await dial(ANSWERED, "failing");
        const seen: Answer[] = [];
        const terminal = await waitFor(
          "the recording's terminal answer",
          async () => {
            const answer = await recordingOf(failing);
            seen.push(answer);
            return answer.status >= 500 ? answer : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 100 },
        );
        expect(terminal).toMatchObject({ status: 502, body: { error: { code: "recording_fetch_failed" } } });
        const waiting = seen.filter((answer) => answer.status === 202);
        expect(waiting.length).toBeGreaterThan(0);
        expect(waiting.every((answer) => Number(answer.retryAfter) > 0)).toBe(true);
        // While a retry waits out its backoff the body says which attempt comes next, of how many.
        expect(waiting.map((answer) => answer.body?.attempt?.current)).toContain(2);
        expect(waiting.find((answer) => answer.body?.attempt?.current === 2)!.body).toMatchObject({ attempt: { max: 3 }, message: expect.stringContaining("attempt 2/3") });
        // Never 202 again for it, until someone asks for a retry.
        expect((await recordingOf(failing)).status).toBe(502);
        expect(await database.db.recordingFetch.findUniqueOrThrow({ where: { dialId: failing } })).toMatchObject({ status: "failed", attempt: 3 });
        expect(await database.db.call.count({ where: { source: "dial" } })).toBe(0);

        const retried = await api(`/v1/dials/${failing}/recording/retry`, { method: "POST" });
        expect(retried.status).toBe(202);
        const played = await waitFor("the recording once fetched and merged", async () => ((await recordingOf(failing)).status === 200 ? true : undefined), { timeoutMs: 120_000, intervalMs: 250 });
        expect(played).toBe(true);
        expect((await api(`/v1/dials/${busy}/recording/retry`, { method: "POST" })).status).toBe(409);
      } finally {
        await stack.stop();
        await twilio.close();
      }
    },
    300_000,
  );

  test(
    "a download cut halfway leaves no object and no call, and the next attempt stores it; a lost recording callback is made good by the reconciler",
    async ({ database, messaging, storage }) => {
      const twilio = await startTwilioServer({ stepMs: 20 });
      const stack = await startDialStack(database, messaging, storage, twilio);
      try {
        const api = (path: string, init: RequestInit = {}) =>
          fetch(`${stack.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${stack.apiKey}`, ...(init.body ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) } });
        const dial = async (to: string, campaign: string) => ((await (await api("/v1/dials", { method: "POST", body: JSON.stringify({ to, campaign }) })).json()) as { id: string }).id;
        const fetched = (dialId: string) =>
          waitFor("the recording fetched", async () => {
            const row = await database.db.recordingFetch.findUnique({ where: { dialId } });
            return row?.status === "succeeded" ? row : undefined;
          }, { timeoutMs: 90_000, intervalMs: 100 });

        twilio.answers.recordingCuts = 1;
        const cut = await dial(ANSWERED, "cut");
        const stored = await fetched(cut);
        expect(stored.attempt).toBe(2);
        const keys: string[] = [];
        for await (const object of storage.store.list("")) keys.push(object.key);
        expect(keys.filter((key) => key.includes(stored.callId) && key.includes("-dial-a1-"))).toEqual([]);
        expect(keys.filter((key) => key.includes(stored.callId) && key.includes("-dial-a2-"))).toHaveLength(1);
        expect(await database.db.call.count({ where: { source: "dial" } })).toBe(1);

        twilio.faults.lose = ["recording"];
        const lost = await dial(ANSWERED, "lost-callback");
        const reconciled = await fetched(lost);
        expect(reconciled.attempt).toBe(1);
        expect(twilio.deliveries.filter((delivery) => delivery.kind === "recording" && delivery.url.includes(lost))).toHaveLength(1);
        expect(await database.db.call.count({ where: { source: "dial" } })).toBe(2);
      } finally {
        await stack.stop();
        await twilio.close();
      }
    },
    300_000,
  );
});
