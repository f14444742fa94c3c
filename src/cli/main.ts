/**
 * The `streamsim` command: run, replay, sweep, report, scenarios, start.
 *
 * Exit codes: 0 everything behaved as expected, 1 a property failed (or a run did not behave as
 * its scenario declares), 2 bad input (one line naming the file or flag and the fix, no stack).
 * `--json` prints machine output on stdout; colour only on a terminal and never with NO_COLOR.
 */
import { randomInt } from "node:crypto";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { FaultIntensity } from "../gen/index.ts";
import type { Shard } from "./commands/sweep.ts";
import type { ExitCode } from "./io.ts";
import { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError, makeConsole, parseDurationMs, shellQuote } from "./io.ts";

// Commands load the engine when they run (dynamic imports), so --help and bad flags answer at once.
// These mirror generate.ts (checked by its unit test) to keep the engine out of start-up.
const FAULT_LEVELS = ["none", "light", "normal", "heavy"] as const;
const DEFAULT_FAULT_LEVEL: FaultIntensity = "normal";
const DEFAULT_SHRINK_RUNS = 200;
const MAX_SEED = 0x7fff_ffff;
/** Generated runs of `sweep` and `start` unless --runs says otherwise (bin/gc.js assumes it too). */
export const DEFAULT_RUNS = 100;

// ---- option parsers (each error names the flag and what it wants) ---------------------------

function intParser(flag: string, min: number, max: number = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} must be an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`}`);
    return n;
  };
}

function parseShard(v: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || !(count >= 1) || !(index >= 1 && index <= count))
    throw new InvalidArgumentError("--shard must be i/n with 1 <= i <= n, e.g. 1/4");
  return { index, count };
}

function parseBudget(v: string): number {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('--time-budget must be a positive duration such as 60s, 5m or 500ms');
  return ms;
}

const seedOption = (what: string): Option => new Option("--seed <n>", what).argParser(intParser("--seed", 0, MAX_SEED));
const faultsOption = (): Option =>
  new Option("--faults <level>", "fault intensity of generated cases").choices([...FAULT_LEVELS]).default(DEFAULT_FAULT_LEVEL);
const workersOption = (): Option =>
  new Option("--workers <k>", "worker threads (0: run in this thread)").argParser(intParser("--workers", 0, 256)).default(availableParallelism(), "one per core");
const jsonOption = (): Option => new Option("--json", "print machine-readable JSON on stdout");

/** The one line of a commander error: "unknown option '--rusn' (Did you mean --runs?)". */
function commanderLine(e: CommanderError): string {
  return e.message
    .replace(/^error:\s*/i, "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l, i) => (i > 0 && l.startsWith("(") ? l : i > 0 ? `(${l})` : l))
    .join(" ");
}

type Run = { code: ExitCode };

/** Builds the program; actions store their exit code in `result`. */
export const OPTION_DEFAULTS = { FAULT_LEVELS, DEFAULT_FAULT_LEVEL, DEFAULT_SHRINK_RUNS, MAX_SEED };

export function buildProgram(argv: readonly string[], result: Run): Command {
  const commandLine = `streamsim ${argv.map(shellQuote).join(" ")}`.trim();
  const program = new Command("streamsim")
    .description("Deterministic simulation testing for checkpointing stream processors: run scenarios, replay failures, sweep generated cases.")
    .version("0.1.0", "-V, --version")
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} })
    .addHelpText(
      "after",
      `
Exit codes: 0 all held (or behaved as the scenario declares), 1 a property failed, 2 bad input.
Examples:
  streamsim scenarios
  streamsim run seed-config-backpressure
  streamsim replay scenarios/regressions/
  streamsim sweep --runs 1000 --seed 42 --workers 2
  streamsim report --merge reports/shard-*/results.json --out reports/all`,
    );

  program
    .command("run")
    .description("run one scenario (a .json file or a built-in name), print its checkpoints and verdict, write reports")
    .argument("<scenario>", "scenario file, or a built-in name (see streamsim scenarios)")
    .option("--out <dir>", "report folder (default reports/<run-id>)")
    .option("--no-report", "do not write reports")
    .addOption(jsonOption())
    .action(async (scenario: string, o: { out?: string; report: boolean; json?: boolean }) => {
      const { runCommand } = await import("./commands/run.ts");
      result.code = runCommand(scenario, { ...(o.out !== undefined ? { out: o.out } : {}), report: o.report, command: commandLine }, makeConsole(o.json === true));
    });

  program
    .command("replay")
    .description("rerun saved scenarios (files, folders, built-in names) or a generated case (--seed), and compare with the recording")
    .argument("[files...]", "scenario files or folders of them")
    .addOption(seedOption("regenerate the generated case of this case seed, as a sweep does"))
    .option("--path <path>", "with --seed: the fast-check path of a shrunk case (printed by sweep)")
    .addOption(faultsOption())
    .option("--save <file>", "with --seed: save the case as a scenario file recording what it did")
    .option("--update-hash", "rewrite expect.traceHash in files that behave as recorded but for the hash (after an intended engine change)")
    .option("--out <dir>", "also write reports to this folder")
    .addOption(jsonOption())
    .action(async (files: string[], o: { seed?: number; path?: string; faults: FaultIntensity; save?: string; out?: string; json?: boolean; updateHash?: boolean }) => {
      const { replayCommand } = await import("./commands/replay.ts");
      result.code = replayCommand(
        files,
        {
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.path !== undefined ? { path: o.path } : {}),
          ...(o.save !== undefined ? { save: o.save } : {}),
          ...(o.out !== undefined ? { out: o.out } : {}),
          updateHash: o.updateHash === true,
          faults: o.faults,
          command: commandLine,
        },
        makeConsole(o.json === true),
      );
    });

  program
    .command("sweep")
    .description("run generated cases on a pool of workers, save counterexamples, write reports")
    .addOption(new Option("--runs <n>", "generated runs in the whole sweep (a shard runs its share)").argParser(intParser("--runs", 1)).default(DEFAULT_RUNS))
    .addOption(seedOption("sweep seed (default: chosen at random and printed)"))
    .addOption(workersOption())
    .addOption(new Option("--shard <i/n>", "run only runs with index % n == i-1 (1-based i)").argParser(parseShard))
    .addOption(new Option("--time-budget <duration>", "stop starting runs after this long, e.g. 60s, 5m").argParser(parseBudget))
    .option("--out <dir>", "report folder (default reports/<run-id>)")
    .addOption(faultsOption())
    .addOption(
      new Option("--shrink-runs <n>", "most runs spent shrinking each counterexample").argParser(intParser("--shrink-runs", 0)).default(DEFAULT_SHRINK_RUNS),
    )
    .addOption(jsonOption())
    .action(
      async (o: {
        runs: number;
        seed?: number;
        workers: number;
        shard?: Shard;
        timeBudget?: number;
        out?: string;
        faults: FaultIntensity;
        shrinkRuns: number;
        json?: boolean;
      }) => {
        const seed = o.seed ?? randomInt(0, MAX_SEED + 1);
        const { sweepCommand } = await import("./commands/sweep.ts");
        result.code = await sweepCommand(
          {
            runs: o.runs,
            seed,
            seedChosen: o.seed === undefined,
            workers: o.workers,
            ...(o.shard !== undefined ? { shard: o.shard } : {}),
            ...(o.timeBudget !== undefined ? { timeBudgetMs: o.timeBudget } : {}),
            ...(o.out !== undefined ? { out: o.out } : {}),
            faults: o.faults,
            shrinkRuns: o.shrinkRuns,
            command: o.seed === undefined ? `${commandLine} --seed ${seed}` : commandLine,
            label: "sweep",
          },
          makeConsole(o.json === true),
        );
      },
    );

  program
    .command("report")
    .description("rebuild the reports from a results.json, or merge the results of sweep shards (--merge)")
    .argument("[files...]", "results.json file(s)")
    .option("--merge", "join several results.json files (the shards of a sweep) into one report")
    .option("--out <dir>", "report folder (default: next to the results.json; with --merge reports/<run-id>)")
    .addOption(jsonOption())
    .action(async (files: string[], o: { merge?: boolean; out?: string; json?: boolean }) => {
      const { reportCommand } = await import("./commands/report.ts");
      result.code = reportCommand(files, { merge: o.merge === true, ...(o.out !== undefined ? { out: o.out } : {}) }, makeConsole(o.json === true));
    });

  program
    .command("scenarios")
    .description("list the built-in scenarios, one line each")
    .addOption(jsonOption())
    .action(async (o: { json?: boolean }) => {
      const { scenariosCommand } = await import("./commands/scenarios.ts");
      result.code = scenariosCommand(makeConsole(o.json === true));
    });

  program
    .command("start")
    .description("a short sweep: every built-in scenario plus generated runs with default faults; writes reports")
    .addOption(new Option("--runs <n>", "generated runs").argParser(intParser("--runs", 0)).default(DEFAULT_RUNS))
    .addOption(seedOption("sweep seed").default(1))
    .addOption(workersOption())
    .addOption(faultsOption())
    .option("--out <dir>", "report folder (default reports/<run-id>)")
    .addOption(jsonOption())
    .action(async (o: { runs: number; seed: number; workers: number; faults: FaultIntensity; out?: string; json?: boolean }) => {
      const con = makeConsole(o.json === true);
      const { BUILTIN_DIR, builtinNames, displayPath, loadScenarioFile } = await import("./scenarios.ts");
      const { executeSweep, printSweep } = await import("./commands/sweep.ts");
      const scenarios = builtinNames().map((n) => {
        const path = `${BUILTIN_DIR}${n}.json`;
        return loadScenarioFile(path, displayPath(path));
      });
      const outcome = await executeSweep(
        {
          runs: o.runs,
          seed: o.seed,
          seedChosen: false,
          workers: o.workers,
          ...(o.out !== undefined ? { out: o.out } : {}),
          faults: o.faults,
          shrinkRuns: DEFAULT_SHRINK_RUNS,
          command: commandLine,
          scenarios,
          label: "start",
        },
        con,
      );
      result.code = printSweep(outcome, con);
      con.line(`open ${displayPath(`${outcome.dir.abs}/index.html`)} in a browser for the timelines`);
    });

  // Every command (and the program) turns commander's errors into one line and exit code 2.
  for (const cmd of [program, ...program.commands]) {
    const name = cmd === program ? "streamsim" : `streamsim ${cmd.name()}`;
    cmd.configureOutput({ outputError: () => {} });
    cmd.exitOverride((e) => {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") throw new CommanderError(0, e.code, "");
      throw new UsageError(`${name}: ${commanderLine(e)}; see ${name} --help`);
    });
  }
  return program;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  // Output piped into `head` and closed early is not an error of ours.
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  const result: Run = { code: EXIT_OK };
  const program = buildProgram(argv, result);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT_OK;
    }
    await program.parseAsync([...argv], { from: "user" });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return EXIT_OK;
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    const err = e as Error;
    process.stderr.write(`streamsim: internal error: ${err.message ?? String(e)}\n`);
    if (process.env["STREAMSIM_DEBUG"] !== undefined && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
    return EXIT_FAILED;
  }
}

// Run directly (tsx src/cli/main.ts ...): bin/streamsim.js imports main() instead.
const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(invoked).href) {
  process.exitCode = await main(process.argv.slice(2));
}
