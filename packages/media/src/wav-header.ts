/** What a WAV file's header says about its audio, when it says it plainly. */
export interface WavHeader {
  durationSeconds: number;
  sampleRateHz: number;
  channels: number;
  /** WAVE format tag: 1 PCM, 3 IEEE float, 6 A-law, 7 µ-law, 0xFFFE extensible. */
  formatTag: number;
  bitsPerSample: number;
  /** ffprobe's name for the codec ("pcm_s16le", "pcm_mulaw", …); undefined when only ffprobe could name it. */
  codec: string | undefined;
}

/** ffprobe's codec names for the plain format tags, by bits per sample. */
const codecOf = (formatTag: number, bits: number): string | undefined => {
  if (formatTag === 0x0001) return bits === 8 ? "pcm_u8" : [16, 24, 32].includes(bits) ? `pcm_s${bits}le` : undefined;
  if (formatTag === 0x0003) return [32, 64].includes(bits) ? `pcm_f${bits}le` : undefined;
  if (formatTag === 0x0006 && bits === 8) return "pcm_alaw";
  if (formatTag === 0x0007 && bits === 8) return "pcm_mulaw";
  return undefined;
};

/** Format tags whose data is fixed-size frames, so bytes ÷ frame size ÷ rate is the duration. */
const FRAMED_FORMATS = new Set([0x0001, 0x0003, 0x0006, 0x0007, 0xfffe]);

/** Enough of a file to hold its header in practice: `fmt ` and the start of `data` after a few metadata chunks. */
export const WAV_HEADER_BYTES = 64 * 1024;

/**
 * Reads a RIFF/WAVE header from the first bytes of a file of `totalBytes`, without running ffprobe.
 * Undefined whenever the header is anything but plain (another container, no `fmt ` before `data`,
 * a compressed codec, inconsistent fields, a streamed length, no whole frame of data): the caller
 * then asks ffprobe, which stays the judge of what is readable audio. The data counted is what the
 * file holds, so a header that claims more than was sent does not lengthen the call.
 */
export function readWavHeader(head: Uint8Array, totalBytes: number): WavHeader | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const tag = (offset: number) => String.fromCharCode(...head.subarray(offset, offset + 4));
  if (head.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") return undefined;

  let format: { tag: number; channels: number; rate: number; byteRate: number; blockAlign: number; bits: number } | undefined;
  for (let offset = 12; offset + 8 <= head.length; ) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > head.length) return undefined;
      format = {
        tag: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        byteRate: view.getUint32(body + 8, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!format || !FRAMED_FORMATS.has(format.tag)) return undefined;
      const { channels, rate, byteRate, blockAlign } = format;
      if (channels === 0 || rate === 0 || blockAlign === 0 || byteRate !== rate * blockAlign) return undefined;
      // 0 and 0xFFFFFFFF: a writer that did not know the length (a live stream); ffprobe decides.
      if (size === 0 || size === 0xffffffff) return undefined;
      const frames = Math.floor(Math.min(size, Math.max(0, totalBytes - body)) / blockAlign);
      if (frames === 0) return undefined;
      return { durationSeconds: frames / rate, sampleRateHz: rate, channels, formatTag: format.tag, bitsPerSample: format.bits, codec: codecOf(format.tag, format.bits) };
    }
    // Chunks are word-aligned: an odd size is followed by a pad byte.
    offset = body + size + (size % 2);
  }
  return undefined;
}
