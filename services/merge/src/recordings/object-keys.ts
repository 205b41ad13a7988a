/** Where a call's merged recording lives: one object per audio version, so a re-merge overwrites only its own. */
export const mergedRecordingKey = (input: { tenantId: string; callId: string; audioVersion: number; extension: string }): string =>
  `tenants/${input.tenantId}/calls/${input.callId}/v${input.audioVersion}/merged.${input.extension}`;
