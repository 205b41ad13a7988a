/** Where a call's objects live: one convention for every service that stores audio (packages/call-lifecycle). */
export { callPrefix, chunkObjectKey } from "@callflow/call-lifecycle";
