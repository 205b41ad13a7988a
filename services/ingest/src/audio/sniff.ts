/**
 * Audio formats accepted, recognised by their first bytes rather than by what the client claims:
 * a renamed text file is not audio whatever its Content-Type says.
 */
export type AudioFormat = "wav" | "mp3" | "aac" | "m4a" | "ogg" | "webm" | "flac";

export const CONTENT_TYPES: Readonly<Record<AudioFormat, string>> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  aac: "audio/aac",
  m4a: "audio/mp4",
  ogg: "audio/ogg",
  webm: "audio/webm",
  flac: "audio/flac",
};

/** Bytes needed to tell every supported format apart. */
export const SNIFF_BYTES = 12;

const ascii = (bytes: Uint8Array, offset: number, text: string): boolean => {
  if (bytes.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
};

/** The format the leading bytes announce, or undefined when they are not a supported audio format. */
export const sniffAudioFormat = (head: Uint8Array): AudioFormat | undefined => {
  // RIFF/WAVE, and RF64/BW64 for files past 4 GiB.
  if ((ascii(head, 0, "RIFF") || ascii(head, 0, "RF64") || ascii(head, 0, "BW64")) && ascii(head, 8, "WAVE")) return "wav";
  if (ascii(head, 0, "fLaC")) return "flac";
  if (ascii(head, 0, "OggS")) return "ogg";
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return "webm";
  if (ascii(head, 4, "ftyp")) return "m4a";
  if (ascii(head, 0, "ID3")) return "mp3";
  const [b0, b1] = [head[0], head[1]];
  if (b0 === 0xff && b1 !== undefined) {
    // ADTS (raw AAC): sync 0xFFF, layer 00.
    if ((b1 & 0xf6) === 0xf0) return "aac";
    // MPEG audio frame: 11-bit sync, version not reserved (01), layer not reserved (00).
    const version = (b1 >> 3) & 0b11;
    const layer = (b1 >> 1) & 0b11;
    if ((b1 & 0xe0) === 0xe0 && version !== 0b01 && layer !== 0b00) return "mp3";
  }
  return undefined;
};
