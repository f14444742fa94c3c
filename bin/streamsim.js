#!/usr/bin/env node
// The streamsim command. streamsim is written in TypeScript: register the loader that compiles
// its sources (typescript.js) in this process, then hand the arguments to src/cli/main.ts, whose
// exit code becomes ours.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sweepNodeFlags } from "./gc.js";

const args = process.argv.slice(2);
const flags = sweepNodeFlags(args);
if (flags.length > 0 && !flags.every((f) => process.execArgv.includes(f))) {
  // V8 takes these flags at start-up only: run the same command again with them (see gc.js).
  const child = spawnSync(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: "inherit" });
  process.exit(child.status ?? (child.signal !== null ? 130 : 1));
}

await import("./typescript.js");
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
