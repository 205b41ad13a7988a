export type { AudioTools } from "./audio-tools.ts";
export { MediaToolError, type MediaToolFailure } from "./media-tool-error.ts";
export { runMediaTool, startMediaTool, type MediaToolLimits, type RunningMediaTool } from "./run-media-tool.ts";
export { probeAudio, probeAudioFile, type ProbedAudio, type ProbedRemoteAudio } from "./probe-audio.ts";
export { trimAudio, type TrimmedAudio } from "./trim-audio.ts";
export { concatenateAudio, type AudioEncoding } from "./concatenate-audio.ts";
export { segmentAudio } from "./segment-audio.ts";
export { readWavHeader, WAV_HEADER_BYTES, type WavHeader } from "./wav-header.ts";
export { speak } from "./speak.ts";
