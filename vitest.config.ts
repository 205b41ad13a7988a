import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "services/*/src/**/*.test.ts", "services/*/test/**/*.test.ts", "services/*/scripts/**/*.test.ts", "test/**/*.test.ts", "deploy/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // vitest's default on a 2-core machine (cores - 1) runs one file at a time while the machine's
    // other core waits. Three at once timed out full-stack tests on a loaded machine; two fit.
    maxWorkers: 2,
    // The summary reporter repeats, last, what failed and why: a CI log must explain itself.
    reporters: ["default", "./scripts/test-summary-reporter.ts"],
    // The AWS SDK's notice that its 2027 releases need Node 22 (README: known limits) in every test's output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
