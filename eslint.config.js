// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Real time, randomness, timers and file I/O are forbidden in the simulated world. */
const determinismRestrictedGlobals = [
  { name: "Date", message: "Simulated code gets time from the scheduler (ctx.scheduler.now)." },
  { name: "setTimeout", message: "Use the simulated scheduler (scheduler.schedule)." },
  { name: "setInterval", message: "Use the simulated scheduler (scheduler.schedule)." },
  { name: "setImmediate", message: "Use the simulated scheduler (scheduler.schedule)." },
  { name: "queueMicrotask", message: "Use the simulated scheduler (scheduler.schedule)." },
  { name: "performance", message: "Simulated code gets time from the scheduler." },
];
const determinismRestrictedProperties = [
  { object: "Math", property: "random", message: "Use the run's seeded Random (ctx.random.fork(name))." },
  { object: "process", property: "hrtime", message: "Simulated code gets time from the scheduler." },
  { object: "Date", property: "now", message: "Simulated code gets time from the scheduler." },
];
const determinismRestrictedImports = {
  paths: [
    { name: "fs", message: "Use the simulated disk (src/sim/disk.ts)." },
    { name: "node:fs", message: "Use the simulated disk (src/sim/disk.ts)." },
    { name: "fs/promises", message: "Use the simulated disk (src/sim/disk.ts)." },
    { name: "node:fs/promises", message: "Use the simulated disk (src/sim/disk.ts)." },
    { name: "node:timers", message: "Use the simulated scheduler." },
    { name: "timers", message: "Use the simulated scheduler." },
    { name: "node:worker_threads", message: "Workers belong to the command line, not the simulated world." },
  ],
};

/**
 * Shapes V8 allocates straight into the old generation. A dead one keeps the young objects it
 * points to alive through every scavenge until the next full collection, so each run's whole
 * world was promoted (docs/performance.md, "Closures and the scavenger"). Tests may use them.
 */
const oldGenerationShapes = [
  {
    selector: "AssignmentExpression[left.type='MemberExpression'] > :matches(ArrowFunctionExpression, FunctionExpression).right",
    message:
      "A function literal assigned straight to a property is allocated in V8's old generation and keeps its run alive after it dies; assign it to a local const first (const f = () => ...; this.x = f;).",
  },
  {
    selector: "ObjectExpression > Property[kind=/^(get|set)$/]",
    message: "An object literal with getters or setters is allocated in V8's old generation; use a class with accessors instead.",
  },
  {
    selector: "NewExpression[callee.name='WeakMap']",
    message: "V8's scavenger keeps a WeakMap's young keys alive until the next full collection; keep the map on the object it describes.",
  },
];

export default tseslint.config(
  { ignores: ["node_modules/", "reports/", ".stryker-tmp/", "coverage/", "scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    // The simulated world: everything under src/ except the command line, report writers and
    // the testing helpers' file output. Tests next to the code are held to the same rule.
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**", "src/report/**", "src/testing/**"],
    rules: {
      "no-restricted-globals": ["error", ...determinismRestrictedGlobals],
      "no-restricted-properties": ["error", ...determinismRestrictedProperties],
      "no-restricted-imports": ["error", determinismRestrictedImports],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**", "src/report/**", "**/*.test.ts"],
    rules: { "no-restricted-syntax": ["error", ...oldGenerationShapes] },
  },
);
