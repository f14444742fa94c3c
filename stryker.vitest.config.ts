/**
 * Vitest configuration for mutation testing (stryker.config.mjs): only the fast tests that judge
 * the checkpointing, recovery and oracle code, so every mutant runs in seconds: the oracle's unit
 * tests, the engine's scenario and API tests, and a quick sample of the default property suites.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "src/oracle/checkers.test.ts",
      "src/engine/scenarios.test.ts",
      "src/engine/api/api.test.ts",
      "src/engine/checkpoint/*.test.ts",
      // The default property suites, sampled (properties/exactly-once.test.ts runs 210 scenarios twice each: too slow per mutant).
      "bench/bugs/quick-suites.test.ts",
    ],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
