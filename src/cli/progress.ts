/**
 * Sweep progress: a bar redrawn in place on a terminal (stderr), plain lines otherwise (every
 * tenth of the runs, and at least every 30 s), nothing in --json mode but the bar.
 */
import type { RunRecord } from "../report/types.ts";
import type { Console } from "./io.ts";

const BAR_WIDTH = 28;
const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 30_000;

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`;
}

export class Progress {
  private done = 0;
  private unexpected = 0;
  private readonly t0 = performance.now();
  private lastDraw = 0;
  private lastPlain = 0;
  private nextPlainAt: number;
  private readonly tty: boolean;

  constructor(
    private readonly con: Console,
    private readonly total: number,
    private readonly label: string,
  ) {
    this.tty = con.errIsTTY;
    this.nextPlainAt = Math.max(1, Math.ceil(total / 10));
  }

  private rate(): number {
    const s = (performance.now() - this.t0) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  private status(): string {
    const rate = this.rate();
    return `${this.done}/${this.total} runs, ${this.unexpected} failing, ${rate.toFixed(1)} runs/s`;
  }

  tick(r: RunRecord): void {
    this.done++;
    if (!r.asExpected) this.unexpected++;
    const now = performance.now();
    if (this.tty) {
      if (now - this.lastDraw < REDRAW_MS && this.done < this.total) return;
      this.lastDraw = now;
      const filled = this.total === 0 ? BAR_WIDTH : Math.round((this.done / this.total) * BAR_WIDTH);
      const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
      const rate = this.rate();
      const eta = rate > 0 ? formatEta((this.total - this.done) / rate) : "?";
      this.con.progress(`\r${this.label} [${bar}] ${this.status()}, eta ${eta}\x1b[K`);
    } else if (this.done >= this.nextPlainAt || now - this.lastPlain >= PLAIN_EVERY_MS) {
      this.lastPlain = now;
      while (this.nextPlainAt <= this.done) this.nextPlainAt += Math.max(1, Math.ceil(this.total / 10));
      this.con.line(`${this.label}: ${this.status()}`);
    }
  }

  /** Clears the bar (a terminal) so the summary starts on a clean line. */
  finish(): void {
    if (this.tty && this.done > 0) this.con.progress("\r\x1b[K");
  }
}
