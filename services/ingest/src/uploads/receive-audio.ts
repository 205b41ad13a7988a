import { Readable } from "node:stream";
import { readWavHeader, WAV_HEADER_BYTES } from "@callflow/media";
import type { ObjectStore } from "@callflow/storage";
import type { AudioProbe } from "../audio/probe.ts";
import { CONTENT_TYPES, SNIFF_BYTES, sniffAudioFormat, type AudioFormat } from "../audio/sniff.ts";
import { ApiError } from "../http/api-error.ts";

export interface ReceivedAudio {
  key: string;
  sizeBytes: number;
  format: AudioFormat;
  contentType: string;
  durationSeconds: number;
}

export interface AudioIntakeDeps {
  store: ObjectStore;
  probe: AudioProbe;
  /** Lifetime of the presigned URL ffprobe reads through. */
  probeUrlSeconds?: number;
}

export interface AudioSource {
  body: Readable;
  /** Content-Length or Upload-Length when the client declared one. */
  declaredLength?: number | undefined;
  maxBytes: number;
  /** Where the object goes, once its format is known. */
  keyFor(format: AudioFormat): string;
}

export const tooLarge = (maxBytes: number): ApiError =>
  new ApiError(413, "payload_too_large", `the audio exceeds the limit of ${maxBytes} bytes`, { connection: "close" });

/**
 * Streams audio into object storage, validated by content: its first bytes must announce a supported
 * format (else 415, before anything is stored), it must stay under the size limit (413 as soon as it
 * passes it) and it must have a duration (else 400): a plain WAV's is read from its header as it
 * streams by, anything else (another format, a WAV header that is not plain) is ffprobe's to read from
 * the stored object. A rejected upload leaves no object behind; the caller writes rows only after this resolves.
 */
export const receiveAudio = async (deps: AudioIntakeDeps, source: AudioSource): Promise<ReceivedAudio> => {
  const { store, probe } = deps;
  if (source.declaredLength !== undefined && source.declaredLength > source.maxBytes) throw tooLarge(source.maxBytes);

  const chunks = source.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    head.push(chunk);
    headBytes += chunk.length;
  }
  if (headBytes === 0) throw new ApiError(400, "empty_body", "the request carried no audio");
  const first = Buffer.concat(head);
  const format = sniffAudioFormat(first);
  if (!format) {
    throw new ApiError(415, "unsupported_audio", "the content is not a supported audio format (WAV, MP3, M4A/AAC, OGG/Opus, WebM, FLAC)", {
      connection: "close",
    });
  }
  if (headBytes > source.maxBytes) throw tooLarge(source.maxBytes);

  let exceeded = false;
  // The first bytes of a WAV, kept as they pass: its header says its duration without an ffprobe run.
  const header: Buffer[] = format === "wav" ? [first] : [];
  let headerBytes = first.length;
  const limited = Readable.from(
    (async function* () {
      let total = first.length;
      yield first;
      if (ended) return;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        total += next.value.length;
        if (format === "wav" && headerBytes < WAV_HEADER_BYTES) {
          header.push(next.value);
          headerBytes += next.value.length;
        }
        if (total > source.maxBytes) {
          exceeded = true;
          throw tooLarge(source.maxBytes);
        }
        yield next.value;
      }
    })(),
    { objectMode: false },
  );

  const key = source.keyFor(format);
  const contentType = CONTENT_TYPES[format];
  let sizeBytes: number;
  try {
    ({ size: sizeBytes } = await store.putStream(key, limited, { contentType }));
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    if (exceeded) throw tooLarge(source.maxBytes);
    throw error;
  }

  let durationSeconds = format === "wav" ? readWavHeader(Buffer.concat(header), sizeBytes)?.durationSeconds : undefined;
  if (durationSeconds === undefined) {
    let probed;
    try {
      probed = await probe.probe(await store.presignGet(key, deps.probeUrlSeconds ?? 600));
    } catch (error) {
      await store.delete(key).catch(() => undefined);
      throw error;
    }
    if (!probed) {
      await store.delete(key);
      throw new ApiError(400, "unreadable_audio", `the ${format} content could not be read as audio with a duration`);
    }
    durationSeconds = probed.durationSeconds;
  }
  return { key, sizeBytes, format, contentType, durationSeconds };
};
