/** The V8 flags `streamsim <args>` runs with; empty for V8's defaults (see gc.js). */
export function sweepNodeFlags(args: readonly string[], env?: { readonly [name: string]: string | undefined }, cores?: number): string[];
