/**
 * Properties of the simulated disk's crash model: for random operation sequences and a crash at a
 * random moment (possibly with operations in flight), synced data survives exactly, nothing after
 * the crash was invented, and the same seed gives the same post-crash state.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SimDisk } from "../src/sim/disk.ts";
import type { DiskError, DiskOptions } from "../src/sim/disk.ts";
import { Random } from "../src/sim/random.ts";
import { Scheduler } from "../src/sim/scheduler.ts";
import { Trace } from "../src/sim/trace.ts";

const FILES = ["/a/x", "/a/y", "/b/x", "/b/z"] as const;
const DIRS = ["/a", "/b"] as const;

type Op =
  | { readonly op: "writeFile" | "appendFile"; readonly path: string; readonly len: number }
  | { readonly op: "fsync" | "unlink"; readonly path: string }
  | { readonly op: "fsyncDir"; readonly path: string }
  | { readonly op: "rename"; readonly path: string; readonly to: string };

const fileArb = fc.constantFrom(...FILES);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom("writeFile" as const, "appendFile" as const), path: fileArb, len: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("fsync" as const), path: fileArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("fsyncDir" as const), path: fc.constantFrom(...DIRS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("rename" as const), path: fileArb, to: fileArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("unlink" as const), path: fileArb }) },
);

const scenarioArb = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  /** Each op, and whether the test waits for it to complete before issuing the next. */
  steps: fc.array(fc.record({ op: opArb, wait: fc.boolean() }), { minLength: 1, maxLength: 30 }),
  /** Crash after this many ops were issued (clamped to the length), this long after the last issue. */
  crashAfter: fc.nat({ max: 30 }),
  crashDelayMs: fc.double({ min: 0, max: 6, noNaN: true, noDefaultInfinity: true }),
  faults: fc.record({
    writeFailureProbability: fc.constantFrom(0, 0.2),
    fsyncFailureProbability: fc.constantFrom(0, 0.3),
    quotaBytes: fc.constantFrom(Infinity, 40),
  }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** What the test knows independently of the disk: per path, the file's content and whether it is synced. */
type ModelFile = { content: string; contentSynced: boolean };

type RunResult = {
  before: Record<string, string>;
  after: Record<string, string>;
  hash: string;
  written: Set<string>;
  model: Map<string, ModelFile>;
  entrySynced: Map<string, boolean>;
};

const dirOf = (p: string): string => p.slice(0, p.lastIndexOf("/"));

/** Data chunks are unique and self-delimiting, so a surviving file can be parsed back into them. */
const chunk = (index: number, len: number): string => `<${index}:${"abcdefgh".slice(0, len)}>`;

function runScenario(sc: Scenario): RunResult {
  const scheduler = new Scheduler({ maxEvents: 100_000 });
  const node = scheduler.addNode("storage");
  const trace = new Trace(scheduler);
  const options: Partial<DiskOptions> = { ...sc.faults };
  const disk = new SimDisk(node, scheduler, Random.fromSeed(sc.seed).fork("disk"), trace, options);
  const model = new Map<string, ModelFile>();
  const entrySynced = new Map<string, boolean>(FILES.map((f) => [f, true]));
  const written = new Set<string>();

  // Setup: durable directories /a and /b (with no faults, so it cannot fail).
  disk.setFaults({ writeFailureProbability: 0, fsyncFailureProbability: 0 });
  let setupDone = 0;
  const count = (err: DiskError | null): void => {
    if (err !== null) throw err;
    setupDone++;
  };
  disk.mkdir("/a", count);
  disk.mkdir("/b", count);
  disk.fsyncDir("/", count);
  scheduler.run();
  expect(setupDone).toBe(3);
  disk.setFaults(sc.faults);

  const crashAfter = Math.min(sc.crashAfter, sc.steps.length);
  for (let i = 0; i < crashAfter; i++) {
    const { op, wait } = sc.steps[i] as Scenario["steps"][number];
    let done = false;
    const then =
      (apply: () => void) =>
      (err: DiskError | null): void => {
        done = true;
        if (err === null) apply();
      };
    switch (op.op) {
      case "writeFile":
      case "appendFile": {
        const data = chunk(i, op.len);
        written.add(data);
        const apply = (): void => {
          const f = model.get(op.path);
          if (f === undefined) entrySynced.set(op.path, false);
          const content = op.op === "writeFile" || f === undefined ? data : f.content + data;
          model.set(op.path, { content, contentSynced: false });
        };
        if (op.op === "writeFile") disk.writeFile(op.path, data, then(apply));
        else disk.appendFile(op.path, data, then(apply));
        break;
      }
      case "fsync":
        disk.fsync(
          op.path,
          then(() => {
            const f = model.get(op.path);
            if (f !== undefined) f.contentSynced = true;
          }),
        );
        break;
      case "fsyncDir":
        disk.fsyncDir(
          op.path,
          then(() => {
            for (const f of FILES) if (dirOf(f) === op.path) entrySynced.set(f, true);
          }),
        );
        break;
      case "rename":
        disk.rename(
          op.path,
          op.to,
          then(() => {
            if (op.path === op.to) return;
            const f = model.get(op.path);
            if (f === undefined) throw new Error(`rename of ${op.path} succeeded but the model has no such file`);
            model.set(op.to, f);
            model.delete(op.path);
            entrySynced.set(op.path, false);
            entrySynced.set(op.to, false);
          }),
        );
        break;
      case "unlink":
        disk.unlink(
          op.path,
          then(() => {
            model.delete(op.path);
            entrySynced.set(op.path, false);
          }),
        );
        break;
    }
    if (wait) {
      scheduler.run({ until: () => done });
      expect(done).toBe(true);
    }
  }
  scheduler.run({ untilTimeMs: scheduler.now + sc.crashDelayMs });
  disk.verifyMirror();
  const before = disk.snapshotFiles();
  scheduler.crash("storage");
  scheduler.restart("storage");
  disk.verifyMirror();
  return { before, after: disk.snapshotFiles(), hash: trace.hash(), written, model, entrySynced };
}

/**
 * Checks that `content` is a sequence of written chunks in write order, the last possibly cut short
 * (after several crashes, any of them: a torn write became durable and later writes followed).
 */
function checkMadeOfWrittenChunks(path: string, content: string, written: Set<string>, crashes = 1): void {
  const parts = content.match(/<[^<>]*>?/g) ?? [];
  expect(parts.join(""), `${path}: unexpected bytes in ${JSON.stringify(content)}`).toBe(content);
  let lastIndex = -1;
  parts.forEach((part, i) => {
    const complete = part.endsWith(">");
    if (complete) expect(written.has(part), `${path}: chunk ${part} was never written`).toBe(true);
    else {
      if (crashes === 1) expect(i, `${path}: a cut chunk can only come last, in ${JSON.stringify(content)}`).toBe(parts.length - 1);
      expect([...written].some((w) => w.startsWith(part)), `${path}: ${part} is no prefix of a written chunk`).toBe(true);
    }
    // The index is known only once its ":" survived ("<1" may be the start of "<12:...>").
    const index = Number(/^<(\d+):/.exec(part)?.[1] ?? "NaN");
    if (!Number.isNaN(index)) {
      expect(index, `${path}: chunks out of write order in ${JSON.stringify(content)}`).toBeGreaterThan(lastIndex);
      lastIndex = index;
    }
  });
}

const TREE_DIRS = ["/", "/a", "/b", "/a/c", "/b/c", "/d", "/b/e"] as const;
const TREE_FILES = ["/a/f", "/b/f", "/a/c/f", "/b/c/f", "/g"] as const;

type TreeOp =
  | { readonly op: "mkdir" | "rmdir" | "fsyncDir"; readonly path: string }
  | { readonly op: "writeFile" | "appendFile"; readonly path: string; readonly len: number }
  | { readonly op: "fsync" | "unlink"; readonly path: string }
  | { readonly op: "rename"; readonly path: string; readonly to: string };

const treeDirArb = fc.constantFrom(...TREE_DIRS);
const treeFileArb = fc.constantFrom(...TREE_FILES);
const treeOpArb: fc.Arbitrary<TreeOp> = fc.oneof(
  fc.record({ op: fc.constantFrom("mkdir" as const, "rmdir" as const, "fsyncDir" as const), path: treeDirArb }),
  fc.record({ op: fc.constantFrom("writeFile" as const, "appendFile" as const), path: treeFileArb, len: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constantFrom("fsync" as const, "unlink" as const), path: treeFileArb }),
  fc.record({ op: fc.constant("rename" as const), path: treeDirArb, to: treeDirArb }),
  fc.record({ op: fc.constant("rename" as const), path: treeFileArb, to: fc.oneof(treeFileArb, treeDirArb) }),
);

const treeScenarioArb = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  steps: fc.array(fc.record({ op: treeOpArb, wait: fc.boolean() }), { minLength: 1, maxLength: 40 }),
  crashes: fc.integer({ min: 1, max: 3 }),
});

/** Runs the ops, crashing (and restarting) the node `crashes` times spread over the sequence. */
function runTreeScenario(sc: typeof treeScenarioArb extends fc.Arbitrary<infer T> ? T : never): { after: Record<string, string>; written: Set<string>; hash: string } {
  const scheduler = new Scheduler({ maxEvents: 100_000 });
  const node = scheduler.addNode("storage");
  const trace = new Trace(scheduler);
  const disk = new SimDisk(node, scheduler, Random.fromSeed(sc.seed).fork("disk"), trace);
  const written = new Set<string>();
  const every = Math.max(1, Math.ceil(sc.steps.length / sc.crashes));
  sc.steps.forEach(({ op, wait }, i) => {
    let done = false;
    const cb = (): void => {
      done = true;
    };
    switch (op.op) {
      case "mkdir":
      case "rmdir":
      case "fsyncDir":
      case "fsync":
      case "unlink":
        disk[op.op](op.path, cb);
        break;
      case "writeFile":
      case "appendFile": {
        const data = chunk(i, op.len);
        written.add(data);
        disk[op.op](op.path, data, cb);
        break;
      }
      case "rename":
        disk.rename(op.path, op.to, cb);
        break;
    }
    if (wait) scheduler.run({ until: () => done });
    if ((i + 1) % every === 0) {
      disk.verifyMirror();
      scheduler.crash("storage");
      scheduler.restart("storage");
      disk.verifyMirror();
    }
  });
  scheduler.run();
  scheduler.crash("storage");
  disk.verifyMirror();
  return { after: disk.snapshotFiles(), written, hash: trace.hash() };
}

describe("disk crash properties", () => {
  test("after a crash at a random moment, synced data survives exactly and no byte or name is invented", () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const r = runScenario(sc);
        // Each chunk went to one file; seeing it in two means a rename was half-applied.
        const owner = new Map<string, string>();
        for (const [path, content] of Object.entries(r.after)) {
          expect(FILES as readonly string[]).toContain(path);
          checkMadeOfWrittenChunks(path, content, r.written);
          for (const m of content.matchAll(/<(\d+):/g)) {
            expect(owner.get(m[1] as string), `chunk ${m[1]} in two files`).toBeUndefined();
            owner.set(m[1] as string, path);
          }
        }
        for (const path of FILES) {
          if (r.entrySynced.get(path) !== true) continue;
          const f = r.model.get(path);
          if (f === undefined) expect(r.after[path], `${path} was removed durably`).toBeUndefined();
          else if (f.contentSynced) expect(r.after[path], `${path} was synced`).toBe(f.content);
          else expect(r.after[path], `${path}'s entry was synced`).toBeDefined();
        }
      }),
      { numRuns: 1000 },
    );
  });

  test("the model the test keeps agrees with the disk's current view before the crash", () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const r = runScenario({ ...sc, steps: sc.steps.map((s) => ({ ...s, wait: true })), crashDelayMs: 0 });
        const expected: Record<string, string> = {};
        for (const path of [...r.model.keys()].sort()) expected[path] = (r.model.get(path) as ModelFile).content;
        expect(r.before).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  test("with directories created, renamed and removed across several crashes, the model stays a tree and invents nothing", () => {
    fc.assert(
      fc.property(treeScenarioArb, (sc) => {
        const r = runTreeScenario(sc);
        const owner = new Map<string, string>();
        for (const [path, content] of Object.entries(r.after)) {
          checkMadeOfWrittenChunks(path, content, r.written, sc.crashes + 1);
          for (const m of content.matchAll(/<(\d+):/g)) {
            expect(owner.get(m[1] as string), `chunk ${m[1]} in two files`).toBeUndefined();
            owner.set(m[1] as string, path);
          }
        }
        expect(runTreeScenario(sc)).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });

  test("the same seed gives the same post-crash state and trace hash", () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const a = runScenario(sc);
        const b = runScenario(sc);
        expect(b.after).toEqual(a.after);
        expect(b.hash).toBe(a.hash);
      }),
      { numRuns: 100 },
    );
  });
});
