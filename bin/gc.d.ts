/** Whether `streamsim <args>` runs with V8's single-threaded garbage collection (see gc.js). */
export function sweepWantsSingleThreadedGc(args: readonly string[], env?: { readonly [name: string]: string | undefined }, cores?: number): boolean;
