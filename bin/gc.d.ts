/** The V8 flags `streamsim <args>` runs with; empty for V8's defaults (see gc.js). */
export function sweepNodeFlags(args: readonly string[], env?: { readonly [name: string]: string | undefined }, cores?: number, memBytes?: number): string[];
/** The semi-space size (MB) of a sweep with `workers` worker threads on a machine with `memBytes` (see gc.js). */
export function semiSpaceMb(workers: number, memBytes: number): number;
/** The fewest `--runs` for which a sweep gets the flags (see gc.js). */
export const LONG_SWEEP_RUNS: number;
/** The --runs of `sweep` and `start` when not given (see gc.js). */
export const DEFAULT_RUNS: number;
