import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * How audio is prepared for the wideband (16 kHz) en-us model, the only English acoustic model
 * pocketsphinx ships. Its filterbank is fixed by the model (`feat.params`: 25 mel filters 130–6800 Hz),
 * so narrowband audio cannot be decoded at 8 kHz with it (`-upperf 3800` against this model gave WER
 * 0.97): phone audio is upsampled instead, and what the upsampling leaves wrong is corrected.
 */
export type FrontEnd = { kind: "wideband" } | { kind: "narrowband"; bandEdgeHz: number };

/** Codecs that only exist on telephone lines: whatever rate the file claims, its speech is narrowband. */
const TELEPHONY_CODECS = new Set(["pcm_mulaw", "pcm_alaw", "adpcm_g726", "adpcm_g726le", "g723_1", "g729", "gsm", "gsm_ms", "amr_nb"]);

/** The probe's rate and codec decide: below 16 kHz, or a telephony codec, is narrowband. */
export function chooseFrontEnd(probed: { sampleRateHz?: number | undefined; codec?: string | undefined }): FrontEnd {
  const rate = probed.sampleRateHz;
  if (rate !== undefined && rate < 16_000) return { kind: "narrowband", bandEdgeHz: Math.min(4_000, rate / 2) };
  if (probed.codec !== undefined && TELEPHONY_CODECS.has(probed.codec)) return { kind: "narrowband", bandEdgeHz: 4_000 };
  return { kind: "wideband" };
}

/** Amplitude of the white noise put above the band edge (about -70 dBFS): faint, but no filter is left empty. */
const NOISE_FLOOR_AMPLITUDE = 0.0003;

/**
 * ffmpeg arguments that turn `input` into the 16 kHz mono 16-bit WAV pocketsphinx reads. Narrowband
 * audio gets a faint, fixed-seed white noise floor above its band edge: upsampled phone audio is
 * digital silence there, which drives the model's top mel filters to the log floor and every cepstral
 * coefficient with them.
 */
export function decodeArgs(frontEnd: FrontEnd, input: string, output: string): string[] {
  const out = ["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", output];
  if (frontEnd.kind === "wideband") return ["-nostdin", "-v", "error", "-y", "-i", input, "-vn", ...out];
  const edge = Math.round(frontEnd.bandEdgeHz);
  const graph = [
    "[0:a:0]aresample=16000,aformat=channel_layouts=mono[speech]",
    `[1:a]highpass=f=${edge}:p=2,highpass=f=${edge}:p=2[floor]`,
    "[speech][floor]amix=inputs=2:duration=first:normalize=0[out]",
  ].join(";");
  return [
    "-nostdin", "-v", "error", "-y", "-i", input,
    "-f", "lavfi", "-i", `anoisesrc=color=white:sample_rate=16000:amplitude=${NOISE_FLOOR_AMPLITUDE}:seed=7`,
    "-filter_complex", graph, "-map", "[out]", ...out,
  ];
}

/**
 * Arguments of the cheap first pass over narrowband audio: keyword spotting runs the same front end
 * (so the same live cepstral-mean updates) in a tenth of a full decode's time; only its log is read.
 */
export const meanPassArgs = (wav: string, modelDir: string, logFile: string): string[] => [
  "-infile", wav, "-hmm", modelDir, "-keyphrase", "hello", "-kws_threshold", "1e-30", "-logfn", logFile,
];

const MEAN_UPDATE = /Update to\s+<([^>]+)>/g;

/** The last cepstral mean pocketsphinx's live CMN logged, or undefined when it logged none. */
export function lastCepstralMean(log: string): number[] | undefined {
  let last: number[] | undefined;
  for (const match of log.matchAll(MEAN_UPDATE)) {
    const values = match[1]!.trim().split(/\s+/).map(Number);
    if (values.length > 0 && values.every(Number.isFinite)) last = values;
  }
  return last;
}

/**
 * The model's `feat.params` with `-cmninit` set to this recording's own cepstral mean. Live CMN
 * starts from `-cmninit` (the model's value, measured on wideband speech; the model's file overrides
 * the command line) and the first utterances are decoded before it has moved: on phone audio their
 * mean is far from it (c0 +6, c5..c8 several units), and they were mostly lost.
 */
export async function writeFeatParams(modelDir: string, mean: readonly number[], file: string): Promise<void> {
  const model = await readFile(path.join(modelDir, "feat.params"), "utf8");
  const lines = model.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("-cmninit"));
  await writeFile(file, [...lines, `-cmninit ${mean.map((value) => value.toFixed(2)).join(",")}`, ""].join("\n"));
}
