import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type FixtureFormat = "wav" | "mp3" | "ogg" | "flac" | "m4a" | "webm";

const CODECS: Record<FixtureFormat, string> = {
  wav: "pcm_s16le",
  mp3: "libmp3lame",
  ogg: "libopus",
  flac: "flac",
  m4a: "aac",
  webm: "libopus",
};

/** A real recording made by ffmpeg: `seconds` of a tone, mono 16 kHz, in the given container. */
export const makeAudio = async (format: FixtureFormat, seconds = 1, frequency = 440): Promise<Buffer> => {
  const directory = await mkdtemp(path.join(tmpdir(), "ingest-audio-"));
  const file = path.join(directory, `tone.${format}`);
  try {
    await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", `sine=frequency=${frequency}:duration=${seconds}`, "-ar", "16000", "-ac", "1", "-c:a", CODECS[format], file]);
    return await readFile(file);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
};
