/**
 * Shared helpers for the benchmarks: timing, medians, ratios and a plain-text table.
 *
 * bench/ is outside the simulated world: real time (performance.now, Date) is allowed here.
 */
import os from "node:os";

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list");
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** numerator / denominator, NaN when the denominator is 0 or either side is not finite. */
export function ratio(numerator: number, denominator: number): number {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return Number.NaN;
  return numerator / denominator;
}

/** "0.93x", or "n/a" for NaN. */
export function formatRatio(r: number, digits = 2): string {
  return Number.isFinite(r) ? `${r.toFixed(digits)}x` : "n/a";
}

/** A rate with an SI suffix: 12_345_678 -> "12.35 M/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "n/a";
  const abs = Math.abs(perSecond);
  if (abs >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G/s`;
  if (abs >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (abs >= 1e3) return `${(perSecond / 1e3).toFixed(2)} k/s`;
  return `${perSecond.toFixed(1)} /s`;
}

/** Milliseconds with sensible precision. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`;
}

/**
 * A plain-text table: the first column left-aligned, the others right-aligned, columns separated
 * by two spaces, a dashed rule under the header.
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((w, i) => {
        const c = cells[i] ?? "";
        return i === 0 ? c.padEnd(w) : c.padStart(w);
      })
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Wall-clock milliseconds spent in `fn`. */
export function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Runs a full collection when node runs with --expose-gc, so one contender's garbage is not billed to the next. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === "function") gc();
}

/** One line naming the benchmark, node version, machine and date. */
export function benchHeader(name: string): string {
  const cpus = os.cpus();
  const cpu = cpus[0]?.model.trim() ?? "unknown cpu";
  const gc = typeof (globalThis as { gc?: unknown }).gc === "function" ? "gc between runs" : "no --expose-gc";
  return `# ${name} | node ${process.version} | ${process.platform}-${process.arch} | ${cpu} x${cpus.length} | ${gc} | ${new Date().toISOString()}`;
}

/** A contender's repeated measurements, summarised. */
export type Sample = {
  readonly name: string;
  /** Operations per run. */
  readonly ops: number;
  /** Wall-clock duration of each run, in milliseconds. */
  readonly runsMs: readonly number[];
};

/** Median operations per second over the runs. */
export function medianRate(s: Sample): number {
  return median(s.runsMs.map((ms) => (s.ops * 1000) / ms));
}

/**
 * Runs every contender once to warm up, then `rounds` rounds in which each contender runs once;
 * the starting contender rotates each round so no one always runs first (or right after the
 * same neighbour's garbage).
 */
export function alternate(
  contenders: ReadonlyArray<{ readonly name: string; readonly ops: number; readonly run: () => void }>,
  rounds: number,
  onRun?: (name: string, round: number, ms: number) => void,
): Sample[] {
  const runs = contenders.map(() => [] as number[]);
  for (const c of contenders) {
    collectGarbage();
    c.run();
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (round + k) % contenders.length;
      const c = contenders[i];
      if (c === undefined) continue;
      collectGarbage();
      const ms = timeMs(c.run);
      runs[i]?.push(ms);
      onRun?.(c.name, round, ms);
    }
  }
  return contenders.map((c, i) => ({ name: c.name, ops: c.ops, runsMs: runs[i] ?? [] }));
}
