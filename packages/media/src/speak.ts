import { rm, writeFile } from "node:fs/promises";
import { runMediaTool } from "./run-media-tool.ts";

/** The one festival voice Debian packages (festvox-us-slt-hts); a second speaker is it, pitched. */
const FESTIVAL_VOICE = "(voice_cmu_us_slt_arctic_hts)";

/**
 * Speaks `text` with festival into `output` as 16 kHz mono 16-bit WAV: the synthetic speech of the
 * demo, the simulated carrier's calls, the tests and the phone-line transform's corpus.
 * `pitchCents` lowers (negative) or raises the voice, so two turns sound like two people;
 * `pauseAfterSeconds` of silence follow, the pause between turns a listener (and a recogniser) expects.
 */
export async function speak(
  text: string,
  output: string,
  options: { pitchCents?: number; pauseAfterSeconds?: number; timeoutMs: number },
): Promise<void> {
  const textFile = `${output}.txt`;
  const festival = `${output}.festival.wav`;
  try {
    await writeFile(textFile, text);
    await runMediaTool("text2wave", ["-eval", FESTIVAL_VOICE, "-o", festival, textFile], { timeoutMs: options.timeoutMs });
    const effects = [
      ...(options.pitchCents ? ["pitch", String(options.pitchCents)] : []),
      ...(options.pauseAfterSeconds ? ["pad", "0", String(options.pauseAfterSeconds)] : []),
    ];
    await runMediaTool("sox", [festival, "-r", "16000", "-c", "1", "-b", "16", output, ...effects], { timeoutMs: options.timeoutMs });
  } finally {
    await rm(textFile, { force: true });
    await rm(festival, { force: true });
  }
}
