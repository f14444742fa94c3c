/**
 * Kernel benchmark: how fast does the simulated clock turn?
 *
 * Workload (the same for every contender, in one process): LIVE timers, each re-arming itself at a
 * pseudo-random delay (uniform in [0, 100) ms from a seeded Random, pre-generated into a
 * Float64Array so the RNG cost is equal for everyone) until FIRINGS firings in total.
 *
 *  (a) streamsim Scheduler (schedule/run), unowned timers;
 *  (a') the same with every timer owned by a SimNode (the incarnation check on the hot path);
 *  (b) a bare binary-heap loop of the same shape: the reference of what V8 can do;
 *  (c) @sinonjs/fake-timers (clock.setTimeout + clock.runAll).
 *
 * Delays are fractional, as simulated latencies are. fake-timers truncates delays with parseInt (and
 * turns 0 into 1 inside a tick): it does the same number of firings in a slightly different order.
 * A second pair of rows runs the Scheduler and the bare heap on integer delays 0..100: the gap
 * between the fractional and integer rows is the cost of formatting fractional numbers (e.g.
 * assert messages built eagerly on the hot path), which integer (Smi) times hide.
 *
 * When src/sim/network.ts and src/sim/disk.ts exist, it also measures connection messages/s
 * between two nodes and writeFile+fsync ops/s on SimDisk against the same ops on a raw memfs Volume.
 *
 * Prints a table; asserts nothing about speed (targets are printed next to the ratios).
 */
import { createClock } from "@sinonjs/fake-timers";
import { Volume } from "memfs";
import { Random } from "../src/sim/random.ts";
import type { Distribution } from "../src/sim/random.ts";
import { Scheduler } from "../src/sim/scheduler.ts";
import type { NodeId, SimNode } from "../src/sim/scheduler.ts";
import { Trace } from "../src/sim/trace.ts";
import { alternate, benchHeader, formatMs, formatRate, formatRatio, formatTable, median, medianRate, ratio } from "./stats.ts";
import type { Sample } from "./stats.ts";

/** Timers alive at any moment. */
const LIVE = 10_000;
/** Firings per run, initial arms included. */
const FIRINGS = 1_000_000;
/** Measured rounds per contender (after one warm-up run each). */
const ROUNDS = 5;
const DELAY_MS_MAX = 100;
const SEED = 20_240_601;

// ---- the workload ---------------------------------------------------------------------------

/** `firings` delays, uniform in [0, DELAY_MS_MAX) ms, or uniform integers in [0, DELAY_MS_MAX]. */
export function makeDelays(firings: number, integer = false, seed = SEED): Float64Array {
  const r = Random.fromSeed(seed).fork("bench/kernel/delays");
  const out = new Float64Array(firings);
  for (let i = 0; i < firings; i++) out[i] = integer ? r.int(0, DELAY_MS_MAX) : r.float() * DELAY_MS_MAX;
  return out;
}

/** What every contender must report, so a broken contender cannot look fast. */
function checkFired(name: string, fired: number, expected: number): void {
  if (fired !== expected) throw new Error(`${name}: fired ${fired} timers, expected ${expected}`);
}

/** (a) streamsim Scheduler; with `owned`, every timer belongs to one of a few SimNodes. */
export function runScheduler(delays: Float64Array, live: number, owned = false): number {
  const total = delays.length;
  const s = new Scheduler({ maxEvents: total + 1, maxTimeMs: 1e12 });
  const owner: SimNode | null = owned ? s.addNode("bench") : null;
  let armed = 0;
  let fired = 0;
  const fire = (): void => {
    fired++;
    if (armed < total) s.schedule(delays[armed++] as number, fire, owner);
  };
  for (let i = 0; i < live && armed < total; i++) s.schedule(delays[armed++] as number, fire, owner);
  s.run();
  return fired;
}

type HeapEvent = { readonly time: number; readonly seq: number; readonly fn: () => void };

/** (b) The minimal array heap ordered by (time, seq): what the Scheduler would be with nothing else. */
class BareHeap {
  now = 0;
  private seq = 0;
  private readonly h: HeapEvent[] = [];

  schedule(delayMs: number, fn: () => void): void {
    const time = this.now + delayMs;
    const e: HeapEvent = { time, seq: this.seq++, fn };
    const h = this.h;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as HeapEvent;
      if (pe.time < time || (pe.time === time && pe.seq < e.seq)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
  }

  run(): void {
    const h = this.h;
    // Bounded: every iteration removes one event; the caller's workload adds a bounded number.
    while (h.length > 0) {
      const top = h[0] as HeapEvent;
      const last = h.pop() as HeapEvent;
      const n = h.length;
      if (n > 0) {
        let i = 0;
        for (let l = 1; l < n; l = 2 * i + 1) {
          let c = l;
          let ce = h[l] as HeapEvent;
          const r = l + 1;
          if (r < n) {
            const re = h[r] as HeapEvent;
            if (re.time < ce.time || (re.time === ce.time && re.seq < ce.seq)) {
              c = r;
              ce = re;
            }
          }
          if (last.time < ce.time || (last.time === ce.time && last.seq < ce.seq)) break;
          h[i] = ce;
          i = c;
        }
        h[i] = last;
      }
      this.now = top.time;
      top.fn();
    }
  }
}

export function runBareHeap(delays: Float64Array, live: number): number {
  const total = delays.length;
  const q = new BareHeap();
  let armed = 0;
  let fired = 0;
  const fire = (): void => {
    fired++;
    if (armed < total) q.schedule(delays[armed++] as number, fire);
  };
  for (let i = 0; i < live && armed < total; i++) q.schedule(delays[armed++] as number, fire);
  q.run();
  return fired;
}

/** (c) @sinonjs/fake-timers: a standalone clock (no globals touched). */
export function runFakeTimers(delays: Float64Array, live: number): number {
  const total = delays.length;
  const clock = createClock(0, total + 10);
  let armed = 0;
  let fired = 0;
  const fire = (): void => {
    fired++;
    if (armed < total) clock.setTimeout(fire, delays[armed++] as number);
  };
  for (let i = 0; i < live && armed < total; i++) clock.setTimeout(fire, delays[armed++] as number);
  clock.runAll();
  return fired;
}

// ---- optional: network and disk (other modules; skipped until they exist) -------------------

/** The slice of src/sim/network.ts this bench uses (see the network brief). */
type NetworkLike = {
  connect(
    a: NodeId,
    b: NodeId,
    handlersA: { onMessage(payload: unknown): void; onBreak(err: Error): void },
    handlersB: { onMessage(payload: unknown): void; onBreak(err: Error): void },
  ): { readonly endA: { send(payload: unknown, sizeBytes?: number): boolean } };
};
type NetworkModule = {
  Network: new (s: Scheduler, r: Random, t: Trace, o?: object) => NetworkLike;
};

/** The slice of src/sim/disk.ts this bench uses (see the disk brief). */
type DiskCallback = (err: Error | null) => void;
type DiskLike = {
  mkdir(path: string, cb: DiskCallback): void;
  writeFile(path: string, data: Uint8Array | string, cb: DiskCallback): void;
  fsync(path: string, cb: DiskCallback): void;
};
type DiskModule = {
  SimDisk: new (node: SimNode, s: Scheduler, r: Random, t: Trace, o?: object) => DiskLike;
};

/** Imports a sibling module by a computed path so a missing file is a runtime skip, not a type error. */
async function optionalImport<T>(relPath: string): Promise<T | string> {
  const url = new URL(relPath, import.meta.url).href;
  try {
    return (await import(url)) as T;
  } catch (e) {
    return `skipped (${relPath}: ${(e as Error).message.split("\n")[0] ?? "import failed"})`;
  }
}

const MESSAGES = 200_000;
/** Messages in flight on the connection at any moment. */
const WINDOW = 1_000;

/** Connection messages between two nodes, a window of WINDOW in flight, MESSAGES in total. */
function runNetwork(mod: NetworkModule, latency: Distribution): number {
  const s = new Scheduler({ maxEvents: MESSAGES * 4, maxTimeMs: 1e12 });
  const trace = new Trace(s, { level: "off" });
  const a = s.addNode("a");
  const b = s.addNode("b");
  const net = new mod.Network(s, Random.fromSeed(SEED), trace, { latency });
  let sent = 0;
  let received = 0;
  const payload = { n: 0 };
  const fail = (err: Error): void => {
    throw err;
  };
  const conn = net.connect(a.id, b.id, { onMessage: () => undefined, onBreak: fail }, {
    onMessage: () => {
      received++;
      if (sent < MESSAGES) {
        sent++;
        conn.endA.send(payload, 64);
      }
    },
    onBreak: fail,
  });
  for (let i = 0; i < WINDOW && sent < MESSAGES; i++) {
    sent++;
    conn.endA.send(payload, 64);
  }
  s.run();
  return received;
}

const DISK_OPS = 20_000;
const DISK_FILES = 64;
const DISK_DATA = "x".repeat(256);

/** DISK_OPS writeFile+fsync pairs, one after the other, over DISK_FILES files. */
function runSimDisk(mod: DiskModule): number {
  const s = new Scheduler({ maxEvents: DISK_OPS * 4, maxTimeMs: 1e12 });
  const trace = new Trace(s, { level: "off" });
  const node = s.addNode("storage");
  const disk = new mod.SimDisk(node, s, Random.fromSeed(SEED), trace);
  let done = 0;
  const next = (): void => {
    if (done >= DISK_OPS) return;
    const path = `/d/f${done % DISK_FILES}`;
    disk.writeFile(path, DISK_DATA, (err) => {
      if (err) throw err;
      disk.fsync(path, (err2) => {
        if (err2) throw err2;
        done++;
        next();
      });
    });
  };
  disk.mkdir("/d", (err) => {
    if (err) throw err;
    next();
  });
  s.run();
  return done;
}

/** The same writeFile+fsync pairs on a raw memfs Volume, synchronously. */
function runMemfs(): number {
  const vol = new Volume();
  vol.mkdirSync("/d", { recursive: true });
  let done = 0;
  for (let i = 0; i < DISK_OPS; i++) {
    const path = `/d/f${i % DISK_FILES}`;
    vol.writeFileSync(path, DISK_DATA);
    const fd = vol.openSync(path, "r+");
    vol.fsyncSync(fd);
    vol.closeSync(fd);
    done++;
  }
  return done;
}

// ---- main -------------------------------------------------------------------------------------

function row(s: Sample): string[] {
  return [s.name, s.ops.toLocaleString("en-US"), formatMs(median(s.runsMs)), formatRate(medianRate(s)), s.runsMs.map((m) => m.toFixed(0)).join(" ")];
}

export async function main(): Promise<void> {
  console.log(benchHeader("kernel"));
  console.log(
    `workload: ${LIVE.toLocaleString("en-US")} live timers re-arming at uniform [0, ${DELAY_MS_MAX}) ms until ` +
      `${FIRINGS.toLocaleString("en-US")} firings; ${ROUNDS} rounds after a warm-up each, medians`,
  );

  const delays = makeDelays(FIRINGS);
  const intDelays = makeDelays(FIRINGS, true);
  const contenders = [
    { name: "streamsim Scheduler", ops: FIRINGS, run: () => checkFired("scheduler", runScheduler(delays, LIVE), FIRINGS) },
    { name: "streamsim Scheduler, owned timers", ops: FIRINGS, run: () => checkFired("scheduler owned", runScheduler(delays, LIVE, true), FIRINGS) },
    { name: "bare binary heap", ops: FIRINGS, run: () => checkFired("bare heap", runBareHeap(delays, LIVE), FIRINGS) },
    { name: "@sinonjs/fake-timers", ops: FIRINGS, run: () => checkFired("fake-timers", runFakeTimers(delays, LIVE), FIRINGS) },
    { name: "streamsim Scheduler, integer delays", ops: FIRINGS, run: () => checkFired("scheduler int", runScheduler(intDelays, LIVE), FIRINGS) },
    { name: "bare binary heap, integer delays", ops: FIRINGS, run: () => checkFired("bare heap int", runBareHeap(intDelays, LIVE), FIRINGS) },
  ];
  const samples = alternate(contenders, ROUNDS);
  const [sched, owned, bare, fake, schedInt, bareInt] = samples.map(medianRate) as [number, number, number, number, number, number];
  console.log("");
  console.log(formatTable(["timers", "events/run", "median", "events/s", "runs (ms)"], samples.map(row)));
  console.log("");
  console.log(
    formatTable(
      ["ratio", "value", "target"],
      [
        ["scheduler / bare heap", formatRatio(ratio(sched, bare)), ">= 0.80x"],
        ["scheduler (owned) / bare heap", formatRatio(ratio(owned, bare)), ""],
        ["scheduler / fake-timers", formatRatio(ratio(sched, fake)), ">= 6.00x"],
        ["scheduler / bare heap, integer delays", formatRatio(ratio(schedInt, bareInt)), ""],
      ],
    ),
  );

  const net = await optionalImport<NetworkModule>("../src/sim/network.ts");
  const disk = await optionalImport<DiskModule>("../src/sim/disk.ts");
  const extra: Array<{ name: string; ops: number; run: () => void }> = [];
  const skipped: string[] = [];
  if (typeof net === "string") skipped.push(`network: ${net}`);
  else {
    extra.push({
      name: "network: connection messages, latency 1..5 ms",
      ops: MESSAGES,
      run: () => checkFired("network", runNetwork(net, { kind: "uniform", minMs: 1, maxMs: 5 }), MESSAGES),
    });
  }
  if (typeof disk === "string") skipped.push(`disk: ${disk}`);
  else {
    extra.push({ name: "SimDisk: writeFile+fsync", ops: DISK_OPS, run: () => checkFired("SimDisk", runSimDisk(disk), DISK_OPS) });
    extra.push({ name: "memfs Volume sync: writeFile+fsync", ops: DISK_OPS, run: () => checkFired("memfs", runMemfs(), DISK_OPS) });
  }
  console.log("");
  if (extra.length > 0) {
    const more = alternate(extra, ROUNDS);
    console.log(formatTable(["resource", "ops/run", "median", "ops/s", "runs (ms)"], more.map(row)));
    const simDisk = more.find((s) => s.name.startsWith("SimDisk"));
    const memfs = more.find((s) => s.name.startsWith("memfs"));
    if (simDisk && memfs) console.log(`SimDisk / memfs: ${formatRatio(ratio(medianRate(simDisk), medianRate(memfs)))}`);
  }
  for (const s of skipped) console.log(s);
}
