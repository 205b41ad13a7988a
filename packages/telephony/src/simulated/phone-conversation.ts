import { createHash, randomUUID } from "node:crypto";
import { access, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runMediaTool, speak } from "@callflow/media";

export interface ConversationTurn {
  readonly speaker: "agent" | "customer";
  readonly text: string;
}

/** The simulated carrier's answered calls: an agent calling a customer back about an order. */
export const CALLBACK_CONVERSATION: readonly ConversationTurn[] = [
  { speaker: "agent", text: "Good morning, this is Daniel from the delivery team, calling about your order." },
  { speaker: "customer", text: "Hello Daniel. Yes, the parcel has not arrived yet." },
  { speaker: "agent", text: "I am sorry. It will be delivered on Friday afternoon. Is that convenient?" },
  { speaker: "customer", text: "Friday afternoon is fine. Thank you for calling." },
];

export interface PhoneConversationOptions {
  /** Where recordings are kept between runs, one file per script; default a folder in the temp dir. */
  cacheDir?: string | undefined;
  /** Each festival or sox run's limit; default 60 s. */
  toolTimeoutMs?: number | undefined;
}

/** Bump when the audio recipe changes, so cached files made the old way are not reused. */
const RECIPE = "festival-slt-hts/customer-pitch-250/pad-0.4/mulaw-8k/v1";

export const defaultRecordingCacheDir = (): string => path.join(tmpdir(), "callflow-telephony-recordings");

const inFlight = new Map<string, Promise<string>>();

/**
 * A two-party call as a phone call recording sounds: festival speaks every turn (one voice is
 * installed, so the customer is pitched a few semitones down), the turns are joined with short
 * pauses, and the whole passes through an 8 kHz mu-law line and back to 8 kHz 16-bit WAV, as Twilio
 * delivers recordings. Made once per script and kept on disk; returns the file's path.
 */
export function phoneConversationRecording(turns: readonly ConversationTurn[], options: PhoneConversationOptions = {}): Promise<string> {
  const key = createHash("sha256").update(JSON.stringify({ RECIPE, turns })).digest("hex").slice(0, 24);
  const file = path.join(options.cacheDir ?? defaultRecordingCacheDir(), `conversation-${key}.wav`);
  let made = inFlight.get(file);
  if (!made) {
    made = access(file).then(() => file, () => synthesize(turns, file, options.toolTimeoutMs ?? 60_000));
    inFlight.set(file, made);
    // A failure is not cached: the next call tries again.
    made.catch(() => inFlight.delete(file));
  }
  return made;
}

async function synthesize(turns: readonly ConversationTurn[], file: string, timeoutMs: number): Promise<string> {
  if (turns.length === 0) throw new Error("a conversation needs at least one turn");
  await mkdir(path.dirname(file), { recursive: true });
  const work = await mkdtemp(path.join(tmpdir(), "callflow-conversation-"));
  try {
    const spoken: string[] = [];
    for (const [index, turn] of turns.entries()) {
      const voiced = path.join(work, `${index}.wav`);
      await speak(turn.text, voiced, { ...(turn.speaker === "customer" ? { pitchCents: -250 } : {}), pauseAfterSeconds: 0.4, timeoutMs });
      spoken.push(voiced);
    }
    const line = path.join(work, "line-mulaw.wav");
    await runMediaTool("sox", [...spoken, "-r", "8000", "-c", "1", "-e", "mu-law", line], { timeoutMs });
    // Written beside the cache file and renamed: a reader never sees half a recording.
    const partial = `${file}.${randomUUID()}.partial`;
    try {
      await runMediaTool("sox", [line, "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "-t", "wav", partial], { timeoutMs });
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return file;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The recording's bytes, for the simulated server to serve. */
export const readPhoneConversation = async (turns: readonly ConversationTurn[], options?: PhoneConversationOptions): Promise<Buffer> =>
  readFile(await phoneConversationRecording(turns, options));
