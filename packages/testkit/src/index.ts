export { test, describe, expect, type InfraFixtures } from "./fixtures.ts";
export { testInfraUrls, InfrastructureUnavailableError, uniqueSuffix } from "./env.ts";
export { createTestDatabase, createEmptyDatabase, type TestDatabase } from "./postgres.ts";
export { createTestNamespace, connectTestNats, type TestNamespace } from "./nats.ts";
export { createTestBucket, embeddedS3ForWorker, type TestBucket } from "./storage.ts";
export { waitFor } from "./wait.ts";
export * from "./providers/index.ts";
export { normalizeWords, wordErrorRate } from "./wer.ts";
export { freePort, startOwnNatsServer, type OwnNatsServer } from "./own-nats.ts";
