import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MediaToolError, runMediaTool, type AudioTools } from "@callflow/media";
import { PermanentProviderError, RetryableProviderError } from "../provider-errors.ts";
import type { AudioFile, SyncSpeechToText, TranscribeContext, Transcription } from "../port.ts";
import { chooseFrontEnd, decodeArgs, lastCepstralMean, meanPassArgs, writeFeatParams, type FrontEnd } from "./front-end.ts";
import { parsePocketsphinx } from "./parse-pocketsphinx.ts";
import { PHONE_LINE_MLLR } from "./phone-line-transform.ts";

/** Where Debian's pocketsphinx-en-us puts the acoustic model (the binary's own default). */
export const DEFAULT_POCKETSPHINX_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us/en-us";

export interface PocketsphinxOptions {
  tools: AudioTools;
  /** `pocketsphinx_continuous` from the Debian package. */
  binary: string;
  /** Recognition runs about real time on one core: the limit is this base plus `perAudioSecond` × duration. */
  timeoutBaseMs: number;
  timeoutPerAudioSecondMs: number;
  /** Audio longer than this is split first, so one recognition never holds a worker for long. */
  maxDurationSeconds: number;
  /** The acoustic model (its `feat.params` is read for narrowband audio); default Debian's en-us. */
  modelDir?: string;
  /**
   * `adapt` (default): narrowband audio (the probe's rate or codec, see front-end.ts) gets the
   * phone-line front end; `as-wideband`: every file is decoded the wideband way (the behaviour before
   * it, kept for the narrowband bench's comparison).
   */
  narrowband?: "adapt" | "as-wideband";
  /**
   * Narrowband audio is decoded with the phone-line MLLR transform (phone-line-transform.ts, built by
   * scripts/build-phone-line-transform.ts) unless this is false (the narrowband bench's comparison).
   */
  phoneLineTransform?: boolean;
}

/**
 * The embedded default: pocketsphinx on this machine, no network and no keys. The audio is first
 * converted to what it reads (16 kHz mono 16-bit WAV) with ffmpeg. Phone audio (8 kHz, mu-law) is
 * decoded with a noise floor above its band, a first pass that measures its cepstral mean
 * (front-end.ts) and a mean transform fitted to phone-line speech (the README has the measurements).
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
        const frontEnd: FrontEnd = options.narrowband === "as-wideband" ? { kind: "wideband" } : chooseFrontEnd(audio);
        await runMediaTool(options.tools.ffmpeg, decodeArgs(frontEnd, audio.path, wav), { timeoutMs: options.tools.timeoutMs, signal: ctx.signal }).catch(
          (error: unknown) => {
            if (error instanceof MediaToolError && !error.timedOut && !ctx.signal.aborted) {
              throw new PermanentProviderError("unsupported_audio", `the audio could not be decoded: ${error.message}`, { cause: error });
            }
            throw error;
          },
        );
        const timeoutMs = Math.round(options.timeoutBaseMs + options.timeoutPerAudioSecondMs * audio.durationSeconds);
        const sphinx = (args: string[]) =>
          runMediaTool(options.binary, args, { timeoutMs, signal: ctx.signal, onOutput: ctx.heartbeat }).catch((error: unknown) => {
            if (error instanceof MediaToolError && error.timedOut) {
              throw new RetryableProviderError("provider_timeout", `pocketsphinx did not finish within ${timeoutMs} ms`, { cause: error });
            }
            throw new RetryableProviderError("transcription_failed", error instanceof Error ? error.message : String(error), { cause: error });
          });
        const modelArgs: string[] = [];
        if (frontEnd.kind === "narrowband") {
          const modelDir = options.modelDir ?? DEFAULT_POCKETSPHINX_MODEL_DIR;
          const log = path.join(dir, "mean-pass.log");
          await sphinx(meanPassArgs(wav, modelDir, log));
          ctx.heartbeat();
          const mean = lastCepstralMean(await readFile(log, "utf8").catch(() => ""));
          modelArgs.push("-hmm", modelDir);
          if (options.phoneLineTransform !== false) {
            const mllr = path.join(dir, "phone-line.mllr");
            await writeFile(mllr, PHONE_LINE_MLLR);
            modelArgs.push("-mllr", mllr);
          }
          // No speech found, no mean: the model's own starting point, as for wideband audio.
          if (mean) {
            const featParams = path.join(dir, "feat.params");
            await writeFeatParams(modelDir, mean, featParams);
            modelArgs.push("-featparams", featParams);
          }
        }
        const output = await sphinx(["-infile", wav, ...modelArgs, "-time", "yes", "-logfn", "/dev/null"]);
        return parsePocketsphinx(output);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
