/**
 * Applying a catalog bug to a temporary copy of the project: src/, properties/ (the suites' shared
 * arbitraries), bench/bugs/, package.json and tsconfig.json are copied, node_modules is a symlink to the real one, and the bug's one text
 * replacement is made in the copy. The working tree is never touched.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Bug } from "./catalog.ts";

/** How often `find` occurs in `text` (non-overlapping). */
export function occurrences(text: string, find: string): number {
  if (find.length === 0) throw new Error("occurrences: empty search text");
  return text.split(find).length - 1;
}

/** The text with the bug applied; throws unless `find` occurs exactly once (a stale catalog entry). */
export function applyToText(bug: Bug, text: string): string {
  const n = occurrences(text, bug.find);
  if (n !== 1)
    throw new Error(`bug ${bug.id}: its find text occurs ${n} times in ${bug.file}, expected exactly once (the catalog is stale: update bench/bugs/catalog.ts)`);
  const i = text.indexOf(bug.find);
  return text.slice(0, i) + bug.replace + text.slice(i + bug.find.length);
}

/** The project root (two levels above this file). */
export const PROJECT_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");

/**
 * Make `dest` a runnable copy of the project at `root`, with `bug` applied (none: an unmodified
 * copy, the control). Replaces whatever was at `dest`.
 */
export function prepareCopy(root: string, dest: string, bug: Bug | null): void {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  cpSync(path.join(root, "src"), path.join(dest, "src"), { recursive: true });
  cpSync(path.join(root, "properties"), path.join(dest, "properties"), { recursive: true });
  cpSync(path.join(root, "bench", "bugs"), path.join(dest, "bench", "bugs"), { recursive: true });
  for (const f of ["package.json", "tsconfig.json"]) cpSync(path.join(root, f), path.join(dest, f));
  symlinkSync(path.join(root, "node_modules"), path.join(dest, "node_modules"), "dir");
  if (bug === null) return;
  const file = path.join(dest, bug.file);
  writeFileSync(file, applyToText(bug, readFileSync(file, "utf8")));
}
