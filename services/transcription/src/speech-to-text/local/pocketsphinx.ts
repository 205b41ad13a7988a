import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MediaToolError, runMediaTool, type AudioTools } from "@callflow/media";
import { PermanentProviderError, RetryableProviderError } from "../provider-errors.ts";
import type { AudioFile, SyncSpeechToText, TranscribeContext, Transcription } from "../port.ts";
import { parsePocketsphinx } from "./parse-pocketsphinx.ts";

export interface PocketsphinxOptions {
  tools: AudioTools;
  /** `pocketsphinx_continuous` from the Debian package. */
  binary: string;
  /** Recognition runs about real time on one core: the limit is this base plus `perAudioSecond` × duration. */
  timeoutBaseMs: number;
  timeoutPerAudioSecondMs: number;
  /** Audio longer than this is split first, so one recognition never holds a worker for long. */
  maxDurationSeconds: number;
}

/**
 * The embedded default: pocketsphinx on this machine, no network and no keys. The audio is first
 * converted to what it reads (16 kHz mono 16-bit WAV) with ffmpeg.
 */
export function createPocketsphinx(options: PocketsphinxOptions): SyncSpeechToText {
  return {
    kind: "sync",
    provider: "local",
    limits: { maxDurationSeconds: options.maxDurationSeconds },
    async transcribe(audio: AudioFile, ctx: TranscribeContext): Promise<Transcription> {
      const dir = await mkdtemp(path.join(tmpdir(), "callflow-sphinx-"));
      try {
        const wav = path.join(dir, "audio.wav");
        await runMediaTool(
          options.tools.ffmpeg,
          ["-nostdin", "-v", "error", "-y", "-i", audio.path, "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", wav],
          { timeoutMs: options.tools.timeoutMs, signal: ctx.signal },
        ).catch((error: unknown) => {
          if (error instanceof MediaToolError && !error.timedOut && !ctx.signal.aborted) {
            throw new PermanentProviderError("unsupported_audio", `the audio could not be decoded: ${error.message}`, { cause: error });
          }
          throw error;
        });
        const timeoutMs = Math.round(options.timeoutBaseMs + options.timeoutPerAudioSecondMs * audio.durationSeconds);
        const output = await runMediaTool(options.binary, ["-infile", wav, "-time", "yes", "-logfn", "/dev/null"], {
          timeoutMs,
          signal: ctx.signal,
          onOutput: ctx.heartbeat,
        }).catch((error: unknown) => {
          if (error instanceof MediaToolError && error.timedOut) {
            throw new RetryableProviderError("provider_timeout", `pocketsphinx did not finish within ${timeoutMs} ms`, { cause: error });
          }
          throw new RetryableProviderError("transcription_failed", error instanceof Error ? error.message : String(error), { cause: error });
        });
        return parsePocketsphinx(output);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
