import { randomBytes } from "node:crypto";

/**
 * Every object of a call lives under `tenants/<tenant>/calls/<call>/`, so deleting a call or finding
 * orphans (objects no chunk row names) is a prefix listing. A nonce keeps a retried or concurrent
 * upload of the same chunk from overwriting the object a committed row already points at.
 */
export const callPrefix = (tenantId: string, callId: string): string => `tenants/${tenantId}/calls/${callId}/`;

export const chunkObjectKey = (tenantId: string, callId: string, audioVersion: number, index: number, format: string): string =>
  `${callPrefix(tenantId, callId)}v${audioVersion}/chunks/${String(index).padStart(5, "0")}-${randomBytes(4).toString("hex")}.${format}`;
