/**
 * What every command shares: exit codes, the one-line error for bad input, and the console with
 * colour only on a terminal (never with NO_COLOR) and a JSON mode for machines.
 */
import pc from "picocolors";

/** 0: everything held (or behaved as declared); 1: a property failed; 2: bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_BAD_INPUT;

/**
 * Bad input: a file, flag or value the command cannot use. Its message is ONE line that names the
 * file or flag and the fix; the command prints it (no stack) and exits with code 2.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(message.replace(/[\r\n]+/g, " ").trim());
  }
}

export type Colors = {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
};

/** Whether to colour a stream: a terminal, and NO_COLOR unset or empty (https://no-color.org). */
export function colorEnabled(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env["NO_COLOR"];
  if (noColor !== undefined && noColor !== "") return false;
  return stream.isTTY === true;
}

export function makeColors(enabled: boolean): Colors {
  const c = pc.createColors(enabled);
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan };
}

/** Where a command writes. Human text goes to `out` unless `json` is set; `err` is for errors and progress. */
export type Console = {
  /** Machine output requested (--json): human lines are suppressed, `printJson` prints. */
  readonly json: boolean;
  readonly color: Colors;
  /** stderr is a terminal (progress bars go there only then). */
  readonly errIsTTY: boolean;
  line(text?: string): void;
  error(text: string): void;
  /** Raw write to stderr (progress). */
  progress(text: string): void;
  printJson(value: unknown): void;
  /** Prints a JSON document given in pieces (too long for one string), then a newline, as printJson. */
  printJsonText(pieces: Iterable<string>): void;
};

/** A console that prints nothing (benchmarks and tests that run commands for their files). */
export const quietConsole: Console = {
  json: false,
  color: makeColors(false),
  errIsTTY: false,
  line: () => undefined,
  error: () => undefined,
  progress: () => undefined,
  printJson: () => undefined,
  printJsonText: () => undefined,
};

/** Characters printJsonText gathers before one write. */
const PRINT_BATCH_CHARS = 1024 * 1024;

export function makeConsole(json: boolean): Console {
  const color = makeColors(!json && colorEnabled(process.stdout));
  const errColor = makeColors(colorEnabled(process.stderr));
  return {
    json,
    color,
    errIsTTY: process.stderr.isTTY === true,
    line(text = "") {
      if (!json) process.stdout.write(text + "\n");
    },
    error(text) {
      process.stderr.write(errColor.red(text) + "\n");
    },
    progress(text) {
      process.stderr.write(text);
    },
    printJson(value) {
      process.stdout.write(JSON.stringify(value, null, 2) + "\n");
    },
    printJsonText(pieces) {
      // Writes to files and pipes are synchronous on Linux and macOS, so the batches do not pile up.
      let batch: string[] = [];
      let size = 0;
      for (const p of pieces) {
        batch.push(p);
        size += p.length;
        if (size >= PRINT_BATCH_CHARS) {
          process.stdout.write(batch.join(""));
          batch = [];
          size = 0;
        }
      }
      batch.push("\n");
      process.stdout.write(batch.join(""));
    },
  };
}

/** Parses "60s", "2m", "500ms", "1h" or a bare number of seconds into ms; undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  const ms = n * factor;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Quotes a shell argument when it needs quoting (for printed replay commands). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
