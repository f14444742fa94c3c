/**
 * `streamsim scenarios`: the built-in scenarios, one line each (name, what it expects, what it shows).
 */
import { join } from "node:path";
import type { Scenario } from "../../scenario.ts";
import type { Console, ExitCode } from "../io.ts";
import { EXIT_OK } from "../io.ts";
import { checkLabel } from "../../report/record.ts";
import { BUILTIN_DIR, builtinNames, displayPath, firstSentence, loadScenarioFile } from "../scenarios.ts";

export function expectText(s: Scenario): string {
  const e = s.expect;
  if (e === undefined) return "pass";
  if (e.verdict === "pass") return e.jobStatus === "FAILED" ? "pass, job FAILED" : "pass";
  return `fail${e.failingCheck !== undefined ? `: ${checkLabel(e.failingCheck)}` : ""}${e.jobStatus !== undefined ? `, job ${e.jobStatus}` : ""}`;
}

export function scenariosCommand(con: Console): ExitCode {
  const rows = builtinNames().map((name) => {
    const file = displayPath(join(BUILTIN_DIR, `${name}.json`));
    const { scenario } = loadScenarioFile(join(BUILTIN_DIR, `${name}.json`), file);
    return { name, file, expect: expectText(scenario), about: firstSentence(scenario.description), scenario };
  });
  const w1 = Math.max(0, ...rows.map((r) => r.name.length));
  const w2 = Math.max(0, ...rows.map((r) => r.expect.length));
  const c = con.color;
  for (const r of rows) con.line(`${c.bold(r.name.padEnd(w1))}  ${r.expect.padEnd(w2)}  ${r.about}`);
  if (rows.length > 0) con.line(c.dim(`run one with: streamsim run <name>   (files in ${displayPath(BUILTIN_DIR)})`));
  if (con.json)
    con.printJson(rows.map((r) => ({ name: r.name, file: r.file, description: r.scenario.description ?? "", expect: r.scenario.expect ?? null })));
  return EXIT_OK;
}
