/**
 * Benchmark entry: `npm run bench [-- name]`.
 *
 * With a name, runs bench/<name>.ts's exported `main()`; with none, runs every registered bench in
 * order. To add a bench, write bench/<name>.ts exporting `main(): void | Promise<void>` and add
 * its name to BENCHES.
 */
type BenchModule = { main(): void | Promise<void> };

/** Registered benches, in the order `npm run bench` runs them. */
export const BENCHES: readonly string[] = ["kernel", "engine", "reports", "sweep", "detection", "runs", "instructions", "memory"];

async function runOne(name: string): Promise<void> {
  const mod = (await import(new URL(`./${name}.ts`, import.meta.url).href)) as Partial<BenchModule>;
  if (typeof mod.main !== "function") throw new Error(`bench/${name}.ts does not export a main() function`);
  await mod.main();
}

async function cli(args: readonly string[]): Promise<number> {
  const names = args.filter((a) => !a.startsWith("-"));
  if (args.includes("--help") || args.includes("-h")) {
    console.log(`usage: npm run bench [-- <name>...]\nbenches: ${BENCHES.join(", ")}`);
    return 0;
  }
  const unknown = names.filter((n) => !BENCHES.includes(n));
  if (unknown.length > 0) {
    console.error(`unknown bench ${unknown.map((n) => `"${n}"`).join(", ")}; registered: ${BENCHES.join(", ")} (add new ones to BENCHES in bench/run.ts)`);
    return 2;
  }
  const selected = names.length > 0 ? names : BENCHES;
  for (const [i, name] of selected.entries()) {
    if (i > 0) console.log("");
    await runOne(name);
  }
  return 0;
}

process.exitCode = await cli(process.argv.slice(2));
