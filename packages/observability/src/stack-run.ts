import { readFile } from "node:fs/promises";
import { startStack, synthesizeCall, SAMPLE_CALL, type Stack } from "@callflow/cli";
import { testInfraUrls, waitFor } from "@callflow/testkit";

export interface StackFixtures {
  database: { url: string };
  messaging: { namespace: string };
}

/** Every service in this process on the embedded defaults (as `callflow up`), on a test's own database and namespace. */
export const startTestStack = (fixtures: StackFixtures, env: Record<string, string> = {}): Promise<Stack> =>
  startStack(
    {
      ...process.env,
      CALLFLOW_DATABASE_URL: fixtures.database.url,
      CALLFLOW_NATS_URL: testInfraUrls().nats,
      CALLFLOW_NAMESPACE: fixtures.messaging.namespace,
      CALLFLOW_LOG_LEVEL: process.env.OBSERVABILITY_TEST_LOG_LEVEL ?? "silent",
      ...env,
    },
    { randomPorts: true },
  );

/** A short two-turn call, synthesized once per test file. */
export const shortCall = async (): Promise<{ audio: Buffer; cleanup(): Promise<void> }> => {
  const sample = await synthesizeCall(SAMPLE_CALL.slice(0, 2));
  return { audio: await readFile(sample.call), cleanup: sample.cleanup };
};

/** Uploads `audio` as one streamed request (`POST /v1/calls`); resolves to the call's id. */
export const uploadCall = async (stack: Stack, audio: Buffer, headers: Record<string, string> = {}): Promise<string> => {
  const answer = await fetch(`${stack.apiUrl}/v1/calls`, {
    method: "POST",
    body: audio,
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "audio/wav", ...headers },
  });
  if (answer.status !== 202) throw new Error(`upload answered ${answer.status}: ${await answer.text()}`);
  return ((await answer.json()) as { id: string }).id;
};

/** Waits until the call is completed or failed; resolves to its final status. */
export const settled = async (stack: Stack, callId: string, timeoutMs = 180_000): Promise<string> => {
  let status = "";
  await waitFor(
    `call ${callId} to settle`,
    async () => {
      const answer = await fetch(`${stack.apiUrl}/v1/calls/${callId}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
      status = ((await answer.json()) as { status: string }).status;
      return status === "completed" || status === "failed";
    },
    { timeoutMs, intervalMs: 250 },
  );
  return status;
};
