import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "properties/**/*.test.ts", "scenarios/**/*.test.ts"],
    // Property suites run many simulations; give each test room without a wall-clock assertion.
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: process.env.CI ? ["default", "junit"] : ["default"],
    outputFile: { junit: "reports/vitest-junit.xml" },
  },
});
