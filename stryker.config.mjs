// @ts-check
/**
 * Mutation testing of the checkpointing, recovery and oracle code: `npm run mutation`.
 * Stryker 9 (10 needs Node 22) with its vitest runner, running only the fast tests listed in
 * stryker.vitest.config.ts, fastest file first, two runners at a time. Reports:
 * reports/mutation/index.html and mutation.json. One file: `npx stryker run --mutate <file>`
 * (list files explicitly: a --mutate glob overrides the exclusion of the test files below).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  vitest: { configFile: "stryker.vitest.config.ts" },
  mutate: [
    "src/engine/checkpoint/**/*.ts",
    "src/engine/cluster/jobmanager.ts",
    "src/engine/cluster/restart.ts",
    "src/engine/runtime/connectors.ts",
    "src/oracle/checkers.ts",
    "!**/*.test.ts",
  ],
  coverageAnalysis: "perTest",
  // Mutants in code that runs when a module loads would need every test: left out (reported as ignored).
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  ignorePatterns: ["reports", "scratch", "docs", "bin", "coverage", ".stryker-tmp"],
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 80, low: 60, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
