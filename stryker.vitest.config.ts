/**
 * Vitest configuration for mutation testing (stryker.config.mjs): only the fast tests that judge
 * the checkpointing, recovery and oracle code, so every mutant runs in seconds: the unit tests of
 * the decider, the connectors and the oracle, the engine's scenario and API tests, and a quick
 * sample of the default property suites.
 *
 * Order matters for cost: Stryker runs a mutant's covering test files one at a time and stops at
 * the first failure (bail), so the files run fastest first (FastFirstSequencer) and a mutant that a
 * unit test kills never pays for the property sample. Vitest's own order runs the slowest first.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/** The test files, fastest first: a file's rank is the index of the first pattern it matches. */
const FAST_FIRST: readonly RegExp[] = [
  /src\/engine\/checkpoint\/[^/]+\.test\.ts$/,
  /src\/oracle\/[^/]+\.test\.ts$/,
  /src\/engine\/runtime\/connectors[^/]*\.test\.ts$/,
  /src\/engine\/api\/api\.test\.ts$/,
  /src\/engine\/cluster\/[^/]+\.test\.ts$/,
  /src\/engine\/scenarios\.test\.ts$/,
  /bench\/bugs\/quick-suites\.test\.ts$/,
];

const rank = (moduleId: string): number => {
  const i = FAST_FIRST.findIndex((re) => re.test(moduleId.replaceAll("\\", "/")));
  return i < 0 ? FAST_FIRST.length : i;
};

class FastFirstSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return Promise.resolve([...files].sort((a, b) => rank(a.moduleId) - rank(b.moduleId) || (a.moduleId < b.moduleId ? -1 : a.moduleId > b.moduleId ? 1 : 0)));
  }
}

export default defineConfig({
  test: {
    include: [
      "src/engine/checkpoint/*.test.ts",
      "src/oracle/checkers.test.ts",
      "src/oracle/checkers-*.test.ts",
      "src/engine/runtime/connectors*.test.ts",
      "src/engine/api/api.test.ts",
      "src/engine/cluster/*.test.ts",
      "src/engine/scenarios.test.ts",
      // The default property suites, sampled (properties/exactly-once.test.ts runs 210 scenarios twice each: too slow per mutant).
      "bench/bugs/quick-suites.test.ts",
    ],
    sequence: { sequencer: FastFirstSequencer },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
