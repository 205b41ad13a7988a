/**
 * The port every provider adapter implements. Times in a Transcription are relative to the audio
 * file the adapter was given; the handler offsets them by the chunk's start in the call.
 */

export interface Word {
  word: string;
  start: number;
  end: number;
  confidence?: number;
}

export interface Segment {
  start: number;
  end: number;
  text: string;
  words?: Word[];
}

export interface Transcription {
  text: string;
  segments: Segment[];
  language?: string;
}

/** A local copy of the chunk's audio, probed. */
export interface AudioFile {
  path: string;
  sizeBytes: number;
  durationSeconds: number;
  contentType?: string | undefined;
  /** From the probe: the local provider picks its front end by them (narrowband phone audio). */
  sampleRateHz?: number | undefined;
  codec?: string | undefined;
}

/** What a provider accepts in one request; audio over either limit is split first. */
export interface ProviderLimits {
  maxBytes?: number;
  maxDurationSeconds?: number;
}

export interface TranscribeContext {
  /** Aborted when the delivery is cancelled (shutdown) or the deadline passes. */
  signal: AbortSignal;
  /** Called while work progresses, so the message and the chunk row stay owned. */
  heartbeat(): void;
}

/** Providers that answer in the request (OpenAI-compatible, local). */
export interface SyncSpeechToText {
  readonly kind: "sync";
  readonly provider: string;
  readonly limits: ProviderLimits;
  transcribe(audio: AudioFile, ctx: TranscribeContext): Promise<Transcription>;
}

export type JobState =
  | { status: "pending" }
  | { status: "completed"; transcription: Transcription }
  | { status: "failed"; message: string };

/** Providers that take a job and answer later, by webhook or when polled (AssemblyAI). */
export interface AsyncSpeechToText {
  readonly kind: "async";
  readonly provider: string;
  readonly limits: ProviderLimits;
  submit(audio: AudioFile, ctx: TranscribeContext): Promise<{ jobId: string }>;
  fetch(jobId: string, ctx: TranscribeContext): Promise<JobState>;
  /** How long to wait for a job on audio this long before giving up on this attempt. */
  jobDeadlineMs(durationSeconds: number): number;
}

export type SpeechToText = SyncSpeechToText | AsyncSpeechToText;
