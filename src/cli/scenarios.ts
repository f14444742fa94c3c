/**
 * Finding and loading scenario files: a path, or the name of a built-in scenario (scenarios/*.json
 * of this package). Every problem is one line naming the file and the fix (a UsageError).
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseScenario } from "../scenario-schema.ts";
import type { Scenario } from "../scenario.ts";
import { UsageError } from "./io.ts";

/** The package's scenarios/ folder (built-in scenarios). */
export const BUILTIN_DIR = fileURLToPath(new URL("../../scenarios/", import.meta.url));

export type LoadedScenario = {
  readonly scenario: Scenario;
  /** The file as the user named it (or scenarios/<name>.json for a built-in). */
  readonly file: string;
};

/** A path as people read it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") ? rel : path;
}

/** Names of the built-in scenarios, sorted. */
export function builtinNames(): string[] {
  if (!existsSync(BUILTIN_DIR)) return [];
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** Reads and checks one scenario file; `label` names it in messages. */
export function loadScenarioFile(path: string, label = path): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, expected a scenario .json file" : String(code ?? e);
    throw new UsageError(`${label}: cannot read the scenario: ${why}`);
  }
  const parsed = parseScenario(text, label);
  if (!parsed.ok) throw new UsageError(parsed.error);
  return { scenario: parsed.scenario, file: label };
}

/** A scenario file path, or a built-in name ("seed-config", "seed-config.json"). */
export function resolveScenario(arg: string): LoadedScenario {
  if (existsSync(arg) && statSync(arg).isFile()) return loadScenarioFile(arg, arg);
  const name = basename(arg).replace(/\.json$/, "");
  if (!arg.includes("/") && builtinNames().includes(name)) {
    const path = join(BUILTIN_DIR, `${name}.json`);
    return loadScenarioFile(path, displayPath(path));
  }
  if (existsSync(arg)) throw new UsageError(`${arg}: is a directory; give a scenario .json file or a built-in name`);
  const names = builtinNames();
  throw new UsageError(
    `${arg}: no such scenario file, nor a built-in scenario; built-ins: ${names.length > 0 ? names.join(", ") : "none"} (list them with: streamsim scenarios)`,
  );
}

/**
 * Scenario files named by the arguments: files, built-in names, and every *.json file in a
 * directory (sorted; an empty directory names none).
 */
export function expandScenarioArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (existsSync(a) && statSync(a).isDirectory()) {
      const files = readdirSync(a)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((f) => join(a, f));
      out.push(...files);
    } else out.push(a);
  }
  return out;
}

/** The first sentence of a description, for one-line listings. */
export function firstSentence(text: string | undefined, maxChars = 110): string {
  if (text === undefined || text.trim() === "") return "";
  const one = text.replace(/\s+/g, " ").trim();
  const m = /^(.+?[.!?])(\s|$)/.exec(one);
  const s = m?.[1] ?? one;
  return s.length <= maxChars ? s : `${s.slice(0, maxChars - 3)}...`;
}
