import { access, constants } from "node:fs/promises";
import type { CallflowApi } from "./api-client.ts";
import type { ProgressView } from "./progress-view.ts";

export interface CallReport {
  callId: string;
  status: string;
  call: CallBody;
  transcript: { text: string; partial: boolean; missingChunkIndexes: number[] } | undefined;
  summary: { model: string; content: SummaryContent } | undefined;
  /** The terminal error an artifact endpoint answered, when the call failed. */
  error: { code: string; message: string } | undefined;
}

export interface CallBody {
  status: string;
  durationSeconds: number | null;
  failedStage: string | null;
  error: { code: string; message: string | null } | null;
  stages: { stage: string; audioVersion: number; status: string; attempt: number; startedAt: string | null; finishedAt: string | null; error: { code: string; message: string | null } | null }[];
  chunks: { expected: number | null; received: number; failed: { index: number; error: { code: string; message: string | null } | null }[] };
}

export interface SummaryContent {
  summary: string;
  keyPoints: string[];
  actionItems: string[];
  sentiment: string;
  fields: Record<string, string | null>;
}

/**
 * `callflow process <file>`: a resumable upload, the call's progress from its event stream until it
 * is completed or failed, then its transcript, summary and stage timeline. Bounded by `timeoutMs`.
 */
export async function processCall(
  api: CallflowApi,
  file: string,
  options: { view: ProgressView; timeoutMs: number; resumeStore?: string },
): Promise<CallReport> {
  await access(file, constants.R_OK).catch(() => {
    throw new Error(`cannot read ${file}`);
  });
  const deadline = AbortSignal.timeout(options.timeoutMs);
  try {
    const callId = await api.uploadResumable(file, {
      onProgress: (sent, total) => options.view.upload(sent, total),
      signal: deadline,
      ...(options.resumeStore ? { resumeStore: options.resumeStore } : {}),
    });
    await api.watch(callId, (event) => options.view.apply(event), deadline).catch((error: unknown) => {
      if (deadline.aborted) throw new Error(`call ${callId} did not finish within ${Math.round(options.timeoutMs / 1000)} s`);
      throw error;
    });
    options.view.stop();
    return await collectReport(api, callId);
  } finally {
    options.view.stop();
  }
}

export async function collectReport(api: CallflowApi, callId: string): Promise<CallReport> {
  const call = await api.get<CallBody>(`/v1/calls/${callId}`);
  const transcript = await api.get<{ text: string; partial: boolean; missingChunkIndexes: number[] } & ErrorBody>(`/v1/calls/${callId}/transcript`);
  const summary = await api.get<{ model: string; content: SummaryContent } & ErrorBody>(`/v1/calls/${callId}/summary`);
  const failure = [transcript, summary].find((answer) => answer.status >= 400)?.body.error;
  return {
    callId,
    status: call.body.status,
    call: call.body,
    transcript: transcript.status === 200 ? transcript.body : undefined,
    summary: summary.status === 200 ? summary.body : undefined,
    error: failure ? { code: failure.code, message: failure.message } : undefined,
  };
}

interface ErrorBody {
  error: { code: string; message: string };
}
