/**
 * The reports of a sweep written as its runs arrive, with memory that does not grow with the runs.
 *
 * `ReportSpool.add` takes each run in set order: its results.json line and its junit.xml test case
 * go to hidden files in the report folder, its checkpoint durations to a third, and a RunSetBuilder
 * keeps the totals, the checkpoint statistics and the runs index.html and summary.md show. `finish`
 * writes the four reports (each atomically, as writeReports does, and byte for byte what
 * writeReports writes for the same runs) and removes the hidden files; `discard` only removes them.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { htmlLines } from "./html.ts";
import { JUNIT_TAIL, junitCaseLines, junitHeadLines } from "./junit.ts";
import { toMarkdownSummary } from "./markdown.ts";
import type { RunRecord } from "./types.ts";
import type { DurationStore, RunSetHead, RunSetView } from "./view.ts";
import { RunSetBuilder } from "./view.ts";
import type { ReportPaths } from "./write.ts";
import { reportPaths, writeChunksAtomic, writeFileAtomic, writeLinesAtomic } from "./write.ts";

/** Characters a spill file gathers before one write. */
const SPILL_BATCH_CHARS = 1024 * 1024;
/** Bytes read at a time when a spill file is copied into a report. */
const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

/** An append-only file written in batches. */
class SpillFile {
  private fd: number | undefined;
  private parts: string[] = [];
  private size = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= SPILL_BATCH_CHARS) this.flush();
  }

  flush(): void {
    if (this.parts.length > 0 && this.fd !== undefined) writeSync(this.fd, this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }

  /** Appends bytes now (after any text gathered so far). */
  writeBytes(bytes: Uint8Array): void {
    this.flush();
    if (this.fd !== undefined) writeSync(this.fd, bytes);
  }

  /** The file's bytes, a chunk at a time (each chunk is valid until the next is asked for). */
  *chunks(): Generator<Uint8Array> {
    this.flush();
    const fd = openSync(this.path, "r");
    try {
      const buf = Buffer.alloc(COPY_CHUNK_BYTES);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        yield buf.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }

  remove(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.parts = [];
    rmSync(this.path, { force: true });
  }
}

/** Values a FileDurations buffers before one write, and reads at a time. */
const DURATION_BATCH = 64 * 1024;
/** Index of the high 32 bits of a float64 in a Uint32Array over it. */
const HI = endianness() === "LE" ? 1 : 0;
const LO = 1 - HI;

/**
 * Durations in a file of float64s. `select` picks the value of a rank exactly with memory bounded
 * by `collectLimit` values: a radix select on the values' bits (16 bits a pass over the file,
 * ordered as the numbers are) narrows the candidates until at most `collectLimit` are left, which
 * are then sorted. Ten million durations (a sweep of about 2.5 million runs) stay in one pass and
 * one sort of a million values or fewer.
 */
export class FileDurations implements DurationStore {
  private readonly file: SpillFile;
  private readonly buf = new Float64Array(DURATION_BATCH);
  private used = 0;
  private n = 0;

  /** @param collectLimit most values sorted in memory at once (tests use a small one). */
  constructor(
    path: string,
    private readonly collectLimit = 1 << 20,
  ) {
    this.file = new SpillFile(path);
  }

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    this.buf[this.used++] = ms;
    this.n++;
    if (this.used === this.buf.length) this.flush();
  }

  private flush(): void {
    if (this.used === 0) return;
    this.file.writeBytes(new Uint8Array(this.buf.buffer, 0, this.used * 8));
    this.used = 0;
  }

  /** Calls `each` with every value and its order-preserving key (hi, lo: unsigned 32-bit halves). */
  private scan(each: (v: number, hi: number, lo: number) => void): void {
    this.flush();
    const fd = openSync(this.file.path, "r");
    try {
      const values = new Float64Array(DURATION_BATCH);
      const bytes = new Uint8Array(values.buffer);
      const words = new Uint32Array(values.buffer);
      let carry = 0;
      for (;;) {
        const got = readSync(fd, bytes, carry, bytes.length - carry, null);
        const total = carry + got;
        const count = Math.floor(total / 8);
        for (let i = 0; i < count; i++) {
          let hi = words[2 * i + HI] as number;
          let lo = words[2 * i + LO] as number;
          // Negative numbers: all bits flipped; others: the sign bit set. Unsigned order is then numeric order.
          if (hi >= 0x8000_0000) {
            hi = ~hi >>> 0;
            lo = ~lo >>> 0;
          } else hi = (hi | 0x8000_0000) >>> 0;
          each(values[i] as number, hi, lo);
        }
        if (got === 0) break;
        carry = total - count * 8;
        if (carry > 0) bytes.copyWithin(0, count * 8, total);
      }
    } finally {
      closeSync(fd);
    }
  }

  select(k: number): number {
    if (!(k >= 0 && k < this.n)) throw new RangeError(`rank ${k} out of 0..${this.n - 1}`);
    // The 16-bit digits of the key fixed so far, high first, and how many values share them.
    const digits: number[] = [];
    let inRange = this.n;
    let rank = k;
    const digitOf = (hi: number, lo: number, d: number): number => (d === 0 ? hi >>> 16 : d === 1 ? hi & 0xffff : d === 2 ? lo >>> 16 : lo & 0xffff);
    const matches = (hi: number, lo: number): boolean => {
      for (let d = 0; d < digits.length; d++) if (digitOf(hi, lo, d) !== digits[d]) return false;
      return true;
    };
    for (;;) {
      if (digits.length === 4) {
        // Every bit fixed: the candidates are all the same value.
        let found: number | undefined;
        this.scan((v, hi, lo) => {
          if (found === undefined && matches(hi, lo)) found = v;
        });
        return found as number;
      }
      if (inRange <= this.collectLimit) {
        const picked = new Float64Array(inRange);
        let j = 0;
        this.scan((v, hi, lo) => {
          if (matches(hi, lo)) picked[j++] = v;
        });
        picked.sort();
        return picked[rank] as number;
      }
      const hist = new Float64Array(0x1_0000);
      const d = digits.length;
      this.scan((_v, hi, lo) => {
        if (matches(hi, lo)) {
          const x = digitOf(hi, lo, d);
          hist[x] = (hist[x] as number) + 1;
        }
      });
      let below = 0;
      let b = 0;
      while (b < 0xffff && below + (hist[b] as number) <= rank) below += hist[b++] as number;
      digits.push(b);
      rank -= below;
      inRange = hist[b] as number;
    }
  }

  remove(): void {
    this.file.remove();
  }
}

/** The parts one after the other, each taken only when the one before is used up. */
function* chain<T>(...parts: Array<Iterable<T>>): Generator<T> {
  for (const p of parts) yield* p;
}

export type SpoolOptions = {
  /** FileDurations' collectLimit (tests). */
  readonly collectLimit?: number;
};

/** The hidden files of a spool, by what they hold. */
export type SpillPaths = { readonly results: string; readonly junit: string; readonly durations: string };

export class ReportSpool {
  readonly spills: SpillPaths;
  private readonly results: SpillFile;
  private readonly junit: SpillFile;
  private readonly durations: FileDurations;
  private readonly builder: RunSetBuilder;
  private done = false;

  /** Opens the spill files in `dir` (created if needed); throws when the folder cannot be written. */
  constructor(
    readonly dir: string,
    options: SpoolOptions = {},
  ) {
    mkdirSync(dir, { recursive: true });
    const tag = join(dir, `.streamsim-spool-${process.pid}${threadId === 0 ? "" : `-${threadId}`}`);
    this.spills = { results: `${tag}-results.tmp`, junit: `${tag}-junit.tmp`, durations: `${tag}-durations.tmp` };
    try {
      this.results = new SpillFile(this.spills.results);
      this.junit = new SpillFile(this.spills.junit);
      this.durations = new FileDurations(this.spills.durations, options.collectLimit);
    } catch (e) {
      for (const p of Object.values(this.spills)) rmSync(p, { force: true });
      throw e;
    }
    this.builder = new RunSetBuilder(this.durations);
  }

  /** Runs added so far. */
  get count(): number {
    return this.builder.count;
  }

  /** The next run in set order. */
  add(r: RunRecord): void {
    if (this.done) throw new Error("ReportSpool.add after finish or discard");
    // results.json's run lines: a comma ends every line but the last.
    this.results.write((this.builder.count === 0 ? "\n" : ",\n") + JSON.stringify(r));
    this.junit.write("\n" + junitCaseLines(r).join("\n"));
    this.builder.add(r);
  }

  /** Writes the four reports into the folder, removes the spill files, returns the set's view. */
  finish(head: RunSetHead): { readonly paths: ReportPaths; readonly view: RunSetView } {
    if (this.done) throw new Error("ReportSpool.finish after finish or discard");
    try {
      const view = this.builder.view(head);
      const paths = reportPaths(this.dir);
      // As resultsJsonLines: the set's fields but runs on the first line, one run a line, "]}".
      const first = JSON.stringify({ ...head, totals: view.totals });
      writeChunksAtomic(paths.results, chain<string | Uint8Array>([`${first.slice(0, -1)},"runs":[`], this.results.chunks(), ["\n]}\n"]));
      writeChunksAtomic(paths.junit, chain<string | Uint8Array>([junitHeadLines(view).join("\n")], this.junit.chunks(), [`\n${JUNIT_TAIL.join("\n")}`]));
      writeFileAtomic(paths.summary, toMarkdownSummary(view));
      writeLinesAtomic(paths.html, htmlLines(view));
      return { paths, view };
    } finally {
      this.discard();
    }
  }

  /** Removes the spill files (a sweep that fails); finish does it too. */
  discard(): void {
    this.done = true;
    this.results.remove();
    this.junit.remove();
    this.durations.remove();
  }
}
