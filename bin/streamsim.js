#!/usr/bin/env node
// The streamsim command. streamsim is written in TypeScript and runs through tsx (a dependency):
// register its loader in this process, then hand the arguments to src/cli/main.ts, whose exit
// code becomes ours.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
