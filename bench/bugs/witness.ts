/**
 * Runs one scenario file on the engine of the project this file sits in (a copy with a catalog bug
 * applied, see apply.ts) and prints the verdict and the failing checks as one JSON line.
 *
 *   node --import ./bin/typescript.js <copy>/bench/bugs/witness.ts <scenario.json>
 */
import { loadScenarioFile } from "../../src/cli/scenarios.ts";
import { runAndJudge } from "../../src/runner/check.ts";

const file = process.argv[2];
if (file === undefined) throw new Error("usage: witness.ts <scenario.json>");
const { scenario } = loadScenarioFile(file);
const { judgement } = runAndJudge(scenario);
console.log(JSON.stringify({ verdict: judgement.verdict, failing: judgement.results.filter((r) => !r.ok).map((r) => r.check), summary: judgement.summary }));
