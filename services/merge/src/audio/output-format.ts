/**
 * The one format every merged recording is re-encoded to: chunks may come as mp3, wav, ogg… at any
 * rate, so concatenation decodes them all and encodes once. Speech at 16 kHz mono loses nothing a
 * listener or a transcriber needs; FLAC keeps it lossless at roughly half the size of PCM.
 */
export const OUTPUT_FORMATS = {
  flac: { extension: "flac", codec: "flac", contentType: "audio/flac", encoderArgs: ["-c:a", "flac", "-f", "flac"] },
  wav: { extension: "wav", codec: "pcm_s16le", contentType: "audio/wav", encoderArgs: ["-c:a", "pcm_s16le", "-f", "wav"] },
  opus: { extension: "ogg", codec: "opus", contentType: "audio/ogg", encoderArgs: ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"] },
  mp3: { extension: "mp3", codec: "mp3", contentType: "audio/mpeg", encoderArgs: ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"] },
} as const;

export type OutputFormatName = keyof typeof OUTPUT_FORMATS;
export type OutputFormat = (typeof OUTPUT_FORMATS)[OutputFormatName];

export const OUTPUT_FORMAT_NAMES = Object.keys(OUTPUT_FORMATS) as [OutputFormatName, ...OutputFormatName[]];

/** Sample rate and channels of every merged recording. */
export const OUTPUT_SAMPLE_RATE = 16_000;
export const OUTPUT_CHANNELS = 1;
