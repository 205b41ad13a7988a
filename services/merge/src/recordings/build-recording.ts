import { mkdtemp, rm, stat } from "node:fs/promises";
import path from "node:path";
import { concatenateAudio, MediaToolError, probeAudio, type AudioEncoding, type AudioTools } from "@callflow/media";
import { PermanentError, RetryableError } from "@callflow/messaging";
import { OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE, type OutputFormat } from "../audio/output-format.ts";
import type { PlannedInput } from "./merge-plan.ts";
import type { PrefetchedInputs } from "./prefetched-inputs.ts";
import type { RecordingStorage } from "./recording-storage.ts";

export interface MergedInput {
  chunkId: string;
  index: number;
  durationSeconds: number;
}

export interface SkippedInput {
  index: number;
  chunkId: string;
  reason: string;
}

export interface BuiltRecording {
  objectKey: string;
  inputs: MergedInput[];
  skipped: SkippedInput[];
  durationSeconds: number;
  sizeBytes: number;
  codec: string;
  verifiedAt: Date;
}

export interface DurationTolerance {
  /** Always allowed, whatever the length: encoders pad a frame or two. */
  seconds: number;
  /** Allowed as a share of the expected duration (0.01 = 1 %). */
  fraction: number;
}

export const allowedDrift = (expectedSeconds: number, tolerance: DurationTolerance): number =>
  Math.max(tolerance.seconds, expectedSeconds * tolerance.fraction);

export type Concatenate = typeof concatenateAudio;

export interface BuildRecordingInput {
  tools: AudioTools;
  format: OutputFormat;
  tolerance: DurationTolerance;
  storage: RecordingStorage;
  workDir: string;
  objectKey: string;
  planned: readonly PlannedInput[];
  policy: "fail" | "partial";
  signal: AbortSignal;
  now: () => Date;
  concatenate?: Concatenate;
  /** Inputs downloaded and probed ahead of the merge (prefetched-inputs.ts); the rest are fetched here. */
  prefetched?: Pick<PrefetchedInputs, "take">;
}

const describeChunks = (skipped: readonly SkippedInput[]): string =>
  skipped.map((s) => `chunk ${s.index} (${s.chunkId}): ${s.reason}`).join("; ");

/**
 * Downloads and probes every input (or takes it prefetched), joins the readable ones, verifies the result by probing it and
 * uploads it. Every input is probed: none is left out without a reason (invariant 8). Throws a
 * PermanentError when the call's audio cannot be merged, a RetryableError when another try may work.
 * The temp dir holds one call's chunks and the output at most, and is removed whatever happens.
 */
export async function buildRecording(input: BuildRecordingInput): Promise<BuiltRecording> {
  const { tools, storage, signal } = input;
  const dir = await mkdtemp(path.join(input.workDir, "callflow-merge-"));
  try {
    const readable: (MergedInput & { file: string })[] = [];
    const skipped: SkippedInput[] = [];
    for (const [n, planned] of input.planned.entries()) {
      const file = path.join(dir, `input-${String(n).padStart(5, "0")}`);
      // An input prefetched while the call was still arriving was downloaded and probed the same way.
      const reason = (await input.prefetched?.take(planned.objectKey, file)) ?? (await fetchAndProbeInput(input, planned, file, signal));
      if (typeof reason === "string") skipped.push({ index: planned.index, chunkId: planned.chunkId, reason });
      else readable.push({ chunkId: planned.chunkId, index: planned.index, durationSeconds: reason.durationSeconds, file });
    }
    if (skipped.length > 0 && input.policy === "fail") {
      throw new PermanentError("merge_input_unreadable", `unreadable chunk ${skipped.map((s) => s.index).join(", ")}: ${describeChunks(skipped)}`);
    }
    if (readable.length === 0) {
      throw new PermanentError("merge_no_readable_input", `no chunk could be read: ${describeChunks(skipped)}`.slice(0, 2_000));
    }

    const output = path.join(dir, `merged.${input.format.extension}`);
    const encoding: AudioEncoding = { sampleRateHz: OUTPUT_SAMPLE_RATE, channels: OUTPUT_CHANNELS, encoderArgs: input.format.encoderArgs };
    await (input.concatenate ?? concatenateAudio)({ tools, inputs: readable.map((r) => r.file), output, encoding, signal }).catch((error: unknown) => {
      // Every input probed as audio: an encode that fails anyway is not blamed on them.
      throw error instanceof MediaToolError
        ? new RetryableError(`concatenating ${readable.length} inputs: ${error.message}`, { code: error.timedOut ? "merge_tool_timeout" : "merge_encode_failed" })
        : error;
    });

    const expected = readable.reduce((sum, r) => sum + r.durationSeconds, 0);
    const probed = await probeAudio(tools, output, signal).catch((error: unknown) => {
      throw new PermanentError("merge_output_unreadable", `the merged file does not probe: ${error instanceof Error ? error.message : String(error)}`);
    });
    const drift = Math.abs(probed.durationSeconds - expected);
    if (drift > allowedDrift(expected, input.tolerance)) {
      // A stored object from an earlier attempt of this version would look like a result: remove it.
      await storage.delete(input.objectKey);
      throw new PermanentError(
        "merge_duration_mismatch",
        `merged recording is ${probed.durationSeconds.toFixed(3)} s, its ${readable.length} inputs add up to ${expected.toFixed(3)} s (allowed ±${allowedDrift(expected, input.tolerance).toFixed(3)} s)`,
      );
    }

    // Only a verified file is uploaded; the size the store reports must be the size written.
    const { size } = await stat(output);
    const uploaded = await storage.upload(input.objectKey, output, input.format.contentType).catch((error: unknown) => {
      throw new RetryableError(`uploading ${input.objectKey}: ${error instanceof Error ? error.message : String(error)}`, { code: "merge_storage_unavailable", cause: error });
    });
    if (uploaded.sizeBytes !== size) {
      await storage.delete(input.objectKey);
      throw new RetryableError(`stored ${uploaded.sizeBytes} bytes of a ${size}-byte recording`, { code: "merge_upload_incomplete" });
    }
    return {
      objectKey: input.objectKey,
      inputs: readable.map(({ chunkId, index, durationSeconds }) => ({ chunkId, index, durationSeconds })),
      skipped,
      durationSeconds: probed.durationSeconds,
      sizeBytes: size,
      codec: probed.codec ?? "unknown",
      verifiedAt: input.now(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Downloads one input to `file` and probes it: the probe's result, or why this input cannot go in.
 * Throws only for what may pass on a retry (storage unreachable, ffprobe hung or missing).
 */
export async function fetchAndProbeInput(
  deps: { storage: Pick<RecordingStorage, "download">; tools: AudioTools },
  planned: Pick<PlannedInput, "objectKey" | "index">,
  file: string,
  signal: AbortSignal,
): Promise<{ durationSeconds: number } | string> {
  const fetched = await deps.storage.download(planned.objectKey, file, signal).catch((error: unknown) => {
    if (signal.aborted) throw error;
    throw new RetryableError(`downloading ${planned.objectKey}: ${error instanceof Error ? error.message : String(error)}`, { code: "merge_storage_unavailable", cause: error });
  });
  if (fetched === "missing") return `object ${planned.objectKey} does not exist`;
  try {
    return await probeAudio(deps.tools, file, signal);
  } catch (error) {
    if (!(error instanceof MediaToolError)) throw error;
    // A hung or missing ffprobe proves nothing about the audio; a clean refusal does.
    if (error.rejectedInput) return `not readable audio (${error.message})`;
    throw error.toOutcomeError({
      context: `probing chunk ${planned.index}`,
      codes: { timed_out: "merge_tool_timeout", not_started: "merge_tool_unavailable", cancelled: "merge_tool_unavailable" },
    });
  }
}
