/** Flink's event-time window assigners, as plan data. Sizes are in ms. */
import type { WindowAssigner } from "../plan/plan.ts";
import { ApiError } from "./errors.ts";

const positive = (v: number, call: string, what: string): void => {
  if (!(Number.isFinite(v) && v > 0)) throw new ApiError(`${call}: ${what} must be a finite number of ms > 0, got ${v}`);
};

export const TumblingEventTimeWindows = {
  /** Back-to-back windows of `sizeMs`: [0, size), [size, 2 size) ... */
  of(sizeMs: number): WindowAssigner {
    positive(sizeMs, "TumblingEventTimeWindows.of", "size");
    return { kind: "tumbling", sizeMs };
  },
} as const;

export const SlidingEventTimeWindows = {
  /** Windows of `sizeMs` starting every `slideMs` (slide <= size). */
  of(sizeMs: number, slideMs: number): WindowAssigner {
    positive(sizeMs, "SlidingEventTimeWindows.of", "size");
    positive(slideMs, "SlidingEventTimeWindows.of", "slide");
    if (slideMs > sizeMs)
      throw new ApiError(`SlidingEventTimeWindows.of: slide must be at most the size (${sizeMs} ms), got ${slideMs}; a longer slide drops records`);
    return { kind: "sliding", sizeMs, slideMs };
  },
} as const;
