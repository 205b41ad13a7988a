/**
 * Where one attempt's merged recording lives. The attempt is in the key: a worker that lost its claim
 * without noticing can never overwrite (or, on a failed check, delete) its successor's committed file.
 * An attempt's object that no recording row names is an orphan the reaper removes.
 */
export const mergedRecordingKey = (input: { tenantId: string; callId: string; audioVersion: number; attempt: number; extension: string }): string =>
  `tenants/${input.tenantId}/calls/${input.callId}/v${input.audioVersion}/merged-${input.attempt}.${input.extension}`;
