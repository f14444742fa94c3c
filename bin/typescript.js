// Loads streamsim's TypeScript sources in this thread: importing this module registers a module
// loader hook (typescript-hooks.js) that compiles each `.ts` file with esbuild as Node loads it.
//
// Why not tsx, which did this until session 5: tsx compiles with esbuild's `keepNames`, which wraps
// every named function, class and arrow in a `__name(fn, "name")` call (a defineProperty each time
// the closure is made). On the simulation's hot paths that cost about 4% of a generated run's
// instructions (valgrind, docs/performance.md). Names need no help here: without minification
// every function keeps its own name. tsx stays a dependency for running examples (`npx tsx ...`).
//
// Used by bin/streamsim.js, each sweep worker (src/cli/worker-entry.mjs), and
// `node --import ./bin/typescript.js file.ts` (npm run bench).
import { register } from "node:module";
import { URL } from "node:url";

// Stack traces point into the TypeScript sources (the compiled code carries inline source maps).
process.setSourceMapsEnabled(true);
register(new URL("./typescript-hooks.js", import.meta.url));
