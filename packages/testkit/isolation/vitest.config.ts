import { defineConfig } from "vitest/config";

// Both files at once, each in its own process: the parallel run test/isolation.test.ts asserts on.
export default defineConfig({
  test: { include: ["*.iso.test.ts"], pool: "forks", maxWorkers: 2, fileParallelism: true, testTimeout: 60_000, hookTimeout: 60_000 },
});
