import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A short support call between an agent and a caller, the script of the demo and the end-to-end test. */
export const SAMPLE_CALL: readonly { speaker: "agent" | "caller"; text: string }[] = [
  { speaker: "agent", text: "Hello, thank you for calling the support line. My name is Sarah. How can I help you today?" },
  { speaker: "caller", text: "Hi Sarah. My internet connection has been dropping every evening for a week." },
  { speaker: "agent", text: "I am sorry to hear that. I will schedule a technician visit for next Tuesday morning." },
  { speaker: "caller", text: "That works for me. Please call me back at five five five one two three four five six seven." },
  { speaker: "agent", text: "Of course. I will send you a confirmation email today. Is there anything else?" },
  { speaker: "caller", text: "No, that is all. Thank you for your help." },
];

/** What a perfect transcript of the sample says. */
export const sampleScript = (turns = SAMPLE_CALL): string => turns.map((turn) => turn.text).join(" ");

const TIMEOUT_MS = 60_000;

/**
 * Speaks each turn with festival (the caller a few semitones lower, so it sounds like two people),
 * then returns 16 kHz mono WAV files: one per turn, and the whole call with short pauses between turns.
 */
export async function synthesizeCall(
  turns = SAMPLE_CALL,
  directory?: string,
): Promise<{ directory: string; turns: string[]; call: string; cleanup(): Promise<void> }> {
  const dir = directory ?? (await mkdtemp(join(tmpdir(), "callflow-sample-")));
  const files: string[] = [];
  try {
    for (const [index, turn] of turns.entries()) {
      const text = join(dir, `turn-${index}.txt`);
      const raw = join(dir, `turn-${index}-raw.wav`);
      const file = join(dir, `turn-${index}.wav`);
      await writeFile(text, turn.text);
      await run("text2wave", ["-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", raw, text], { timeout: TIMEOUT_MS });
      const effects = turn.speaker === "caller" ? ["pitch", "-250"] : [];
      // Half a second of silence after each turn: the pause a listener (and a recogniser) expects.
      await run("sox", [raw, "-r", "16000", "-c", "1", "-b", "16", file, ...effects, "pad", "0", "0.5"], { timeout: TIMEOUT_MS });
      files.push(file);
    }
    const call = join(dir, "call.wav");
    await run("sox", [...files, call], { timeout: TIMEOUT_MS });
    return { directory: dir, turns: files, call, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    if (!directory) await rm(dir, { recursive: true, force: true });
    throw missing ? new Error("festival (text2wave) and sox are needed to synthesize the sample call: run scripts/bootstrap.sh") : error;
  }
}
