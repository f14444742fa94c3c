// The module loader hook behind typescript.js: a `.ts` file is read and compiled to JavaScript
// with esbuild (types stripped, nothing else changed: no bundling, no minification, no renaming),
// then evaluated as an ES module. Everything else is Node's own loading. Relative imports in the
// sources name their `.ts` files, so Node's resolution needs no help.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

/** The compiler options that change esbuild's output, as in tsconfig.json (which tsc checks). */
const TSCONFIG = { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } };

/**
 * @param {string} url
 * @param {{ format?: string | null }} context
 * @param {(url: string, context: object) => Promise<object>} next
 */
export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, "utf8");
  const { code } = transformSync(source, {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcemap: "inline",
    sourcefile: path,
    tsconfigRaw: TSCONFIG,
  });
  return { format: "module", source: code, shortCircuit: true };
}
