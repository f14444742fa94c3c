import { describe, expect, test } from "vitest";
import { DiskError, SimDisk, defaultDiskOptions, validateDiskOptions } from "./disk.ts";
import type { DiskOptions } from "./disk.ts";
import { Random } from "./random.ts";
import { Scheduler } from "./scheduler.ts";
import { Trace } from "./trace.ts";

type Sim = { scheduler: Scheduler; trace: Trace; disk: SimDisk };

function setup(options: Partial<DiskOptions> = {}, seed: number | string = 1): Sim {
  const scheduler = new Scheduler();
  const node = scheduler.addNode("storage");
  const trace = new Trace(scheduler);
  const disk = new SimDisk(node, scheduler, Random.fromSeed(seed).fork("disk"), trace, options);
  return { scheduler, trace, disk };
}

type Result<T> = { err: DiskError | null; value: T | undefined };

/** Issue one operation and run the simulation until its callback has fired. */
function call<T = unknown>(s: Sim, start: (cb: (err: DiskError | null, value?: T) => void) => void): Result<T> {
  let result: Result<T> | undefined;
  start((err, value) => {
    result = { err, value };
  });
  s.scheduler.run({ until: () => result !== undefined });
  if (result === undefined) throw new Error("the operation never completed");
  return result;
}

function ok<T = unknown>(s: Sim, start: (cb: (err: DiskError | null, value?: T) => void) => void): T | undefined {
  const r = call(s, start);
  if (r.err !== null) throw r.err;
  return r.value;
}

function code<T = unknown>(s: Sim, start: (cb: (err: DiskError | null, value?: T) => void) => void): string | undefined {
  return call(s, start).err?.code;
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

function readBytes(s: Sim, path: string): Uint8Array | undefined {
  return ok<Uint8Array>(s, (cb) => s.disk.readFile(path, cb));
}

function readNames(s: Sim, path: string): string[] | undefined {
  return ok<string[]>(s, (cb) => s.disk.readdir(path, cb));
}

/** Write a file and make both its content and its directory entry durable. */
function writeDurably(s: Sim, path: string, data: string): void {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  ok(s, (cb) => s.disk.writeFile(path, data, cb));
  ok(s, (cb) => s.disk.fsync(path, cb));
  ok(s, (cb) => s.disk.fsyncDir(dir, cb));
}

function crashAndRestart(s: Sim): void {
  s.scheduler.crash("storage");
  s.scheduler.restart("storage");
}

describe("SimDisk operations", () => {
  test("a written file reads back and shows in the snapshot", () => {
    const s = setup();
    ok(s, (cb) => s.disk.writeFile("/a.txt", "hello", cb));
    expect(text(readBytes(s, "/a.txt"))).toBe("hello");
    expect(s.disk.snapshotFiles()).toEqual({ "/a.txt": "hello" });
    expect(s.disk.exists("/a.txt")).toBe(true);
    expect(s.disk.exists("/b.txt")).toBe(false);
    s.disk.verifyMirror();
  });

  test("an operation completes after its simulated latency, within the latency distribution", () => {
    const s = setup({ latency: { kind: "uniform", minMs: 2, maxMs: 3 } });
    ok(s, (cb) => s.disk.writeFile("/a", "x", cb));
    expect(s.scheduler.now).toBeGreaterThanOrEqual(2);
    expect(s.scheduler.now).toBeLessThanOrEqual(3);
  });

  test("writeFile truncates an existing file and binary content round-trips", () => {
    const s = setup();
    ok(s, (cb) => s.disk.writeFile("/f", "a long first version", cb));
    ok(s, (cb) => s.disk.writeFile("/f", new Uint8Array([0, 255, 10, 128]), cb));
    expect([...(readBytes(s, "/f") ?? [])]).toEqual([0, 255, 10, 128]);
    expect(s.disk.usedBytes).toBe(4);
  });

  test("the disk copies written buffers and hands out copies on read", () => {
    const s = setup();
    const buf = new Uint8Array([1, 2, 3]);
    ok(s, (cb) => s.disk.writeFile("/f", buf, cb));
    buf[0] = 9;
    const read = readBytes(s, "/f");
    expect([...(read ?? [])]).toEqual([1, 2, 3]);
    if (read !== undefined) read[1] = 9;
    expect([...s.disk.readFileSync("/f")]).toEqual([1, 2, 3]);
  });

  test("appendFile creates a missing file and appends to an existing one", () => {
    const s = setup();
    ok(s, (cb) => s.disk.appendFile("/log", "a", cb));
    ok(s, (cb) => s.disk.appendFile("/log", "bc", cb));
    expect(text(s.disk.readFileSync("/log"))).toBe("abc");
    expect(s.disk.stats().bytesWritten).toBe(3);
  });

  test("writing into a missing directory fails ENOENT, under a file ENOTDIR, onto a directory EISDIR", () => {
    const s = setup();
    expect(code(s, (cb) => s.disk.writeFile("/missing/f", "x", cb))).toBe("ENOENT");
    ok(s, (cb) => s.disk.writeFile("/file", "x", cb));
    expect(code(s, (cb) => s.disk.writeFile("/file/f", "x", cb))).toBe("ENOTDIR");
    ok(s, (cb) => s.disk.mkdir("/d", cb));
    expect(code(s, (cb) => s.disk.writeFile("/d", "x", cb))).toBe("EISDIR");
    expect(code(s, (cb) => s.disk.appendFile("/d", "x", cb))).toBe("EISDIR");
    expect(s.disk.snapshotFiles()).toEqual({ "/file": "x" });
  });

  test("readFile fails ENOENT on a missing file and EISDIR on a directory", () => {
    const s = setup();
    const r = call(s, (cb) => s.disk.readFile("/nope", cb));
    expect(r.err).toBeInstanceOf(DiskError);
    expect(r.err?.code).toBe("ENOENT");
    expect(r.err?.message).toContain("no such file or directory");
    ok(s, (cb) => s.disk.mkdir("/d", cb));
    expect(code(s, (cb) => s.disk.readFile("/d", cb))).toBe("EISDIR");
    expect(() => s.disk.readFileSync("/nope")).toThrow(DiskError);
  });

  test("mkdir creates parents, accepts an existing directory and refuses a file", () => {
    const s = setup();
    ok(s, (cb) => s.disk.mkdir("/a/b/c", cb));
    ok(s, (cb) => s.disk.mkdir("/a/b", cb));
    ok(s, (cb) => s.disk.mkdir("/", cb));
    expect(s.disk.readdirSync("/a/b")).toEqual(["c"]);
    ok(s, (cb) => s.disk.writeFile("/a/f", "x", cb));
    expect(code(s, (cb) => s.disk.mkdir("/a/f", cb))).toBe("EEXIST");
    expect(code(s, (cb) => s.disk.mkdir("/a/f/g/h", cb))).toBe("ENOTDIR");
    s.disk.verifyMirror();
  });

  test("readdir lists sorted names and fails on a missing path or a file", () => {
    const s = setup();
    ok(s, (cb) => s.disk.mkdir("/d/zz", cb));
    for (const n of ["b", "a", "c"]) ok(s, (cb) => s.disk.writeFile(`/d/${n}`, n, cb));
    expect(readNames(s, "/d")).toEqual(["a", "b", "c", "zz"]);
    expect(code(s, (cb) => s.disk.readdir("/nope", cb))).toBe("ENOENT");
    expect(code(s, (cb) => s.disk.readdir("/d/a", cb))).toBe("ENOTDIR");
  });

  test("rename moves a file and atomically replaces the target", () => {
    const s = setup();
    ok(s, (cb) => s.disk.writeFile("/tmp", "new", cb));
    ok(s, (cb) => s.disk.writeFile("/cur", "old-and-longer", cb));
    ok(s, (cb) => s.disk.rename("/tmp", "/cur", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/cur": "new" });
    expect(s.disk.usedBytes).toBe(3);
    ok(s, (cb) => s.disk.rename("/cur", "/cur", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/cur": "new" });
    s.disk.verifyMirror();
  });

  test("rename moves directories with their content and refuses invalid moves", () => {
    const s = setup();
    ok(s, (cb) => s.disk.mkdir("/a/sub", cb));
    ok(s, (cb) => s.disk.writeFile("/a/sub/f", "x", cb));
    ok(s, (cb) => s.disk.mkdir("/empty", cb));
    ok(s, (cb) => s.disk.writeFile("/file", "y", cb));
    expect(code(s, (cb) => s.disk.rename("/missing", "/b", cb))).toBe("ENOENT");
    expect(code(s, (cb) => s.disk.rename("/file", "/nodir/file", cb))).toBe("ENOENT");
    expect(code(s, (cb) => s.disk.rename("/a", "/a/sub/inside", cb))).toBe("EINVAL");
    expect(code(s, (cb) => s.disk.rename("/file", "/a", cb))).toBe("EISDIR");
    expect(code(s, (cb) => s.disk.rename("/empty", "/file", cb))).toBe("ENOTDIR");
    expect(code(s, (cb) => s.disk.rename("/empty", "/a", cb))).toBe("ENOTEMPTY");
    ok(s, (cb) => s.disk.rename("/a", "/empty", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/empty/sub/f": "x", "/file": "y" });
    s.disk.verifyMirror();
  });

  test("unlink removes a file, refuses a directory; rmdir removes only empty directories", () => {
    const s = setup();
    ok(s, (cb) => s.disk.mkdir("/d", cb));
    ok(s, (cb) => s.disk.writeFile("/d/f", "xyz", cb));
    expect(code(s, (cb) => s.disk.unlink("/d", cb))).toBe("EISDIR");
    expect(code(s, (cb) => s.disk.rmdir("/d", cb))).toBe("ENOTEMPTY");
    expect(code(s, (cb) => s.disk.rmdir("/d/f", cb))).toBe("ENOTDIR");
    ok(s, (cb) => s.disk.unlink("/d/f", cb));
    expect(code(s, (cb) => s.disk.unlink("/d/f", cb))).toBe("ENOENT");
    ok(s, (cb) => s.disk.rmdir("/d", cb));
    expect(s.disk.exists("/d")).toBe(false);
    expect(s.disk.usedBytes).toBe(0);
    s.disk.verifyMirror();
  });

  test("fsync of a missing file fails ENOENT and fsyncDir of a file fails ENOTDIR", () => {
    const s = setup();
    expect(code(s, (cb) => s.disk.fsync("/nope", cb))).toBe("ENOENT");
    ok(s, (cb) => s.disk.writeFile("/f", "x", cb));
    expect(code(s, (cb) => s.disk.fsyncDir("/f", cb))).toBe("ENOTDIR");
    expect(code(s, (cb) => s.disk.fsyncDir("/nope", cb))).toBe("ENOENT");
  });

  test("a write past the quota fails ENOSPC, changes nothing and is traced as a fault", () => {
    const s = setup({ quotaBytes: 10 });
    ok(s, (cb) => s.disk.writeFile("/a", "12345", cb));
    ok(s, (cb) => s.disk.writeFile("/b", "1234", cb));
    expect(code(s, (cb) => s.disk.appendFile("/b", "xx", cb))).toBe("ENOSPC");
    expect(code(s, (cb) => s.disk.writeFile("/c", "xx", cb))).toBe("ENOSPC");
    // Replacing a file counts its old size out.
    ok(s, (cb) => s.disk.writeFile("/a", "123456", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/a": "123456", "/b": "1234" });
    expect(s.trace.events().filter((e) => e.kind === "disk-fault" && e.data["code"] === "ENOSPC")).toHaveLength(2);
    expect(s.disk.stats().faults).toBe(2);
  });

  test("setFaults can lower the quota at runtime and clearFaults restores it", () => {
    const s = setup();
    ok(s, (cb) => s.disk.writeFile("/a", "12345", cb));
    s.disk.setFaults({ quotaBytes: 6 });
    expect(code(s, (cb) => s.disk.appendFile("/a", "xx", cb))).toBe("ENOSPC");
    s.disk.clearFaults();
    ok(s, (cb) => s.disk.appendFile("/a", "xx", cb));
  });

  test("failure probabilities of 1 make writes, reads and syncs fail EIO without effect", () => {
    const s = setup();
    ok(s, (cb) => s.disk.writeFile("/f", "before", cb));
    s.disk.setFaults({ writeFailureProbability: 1 });
    expect(code(s, (cb) => s.disk.writeFile("/f", "after", cb))).toBe("EIO");
    expect(code(s, (cb) => s.disk.mkdir("/d", cb))).toBe("EIO");
    expect(code(s, (cb) => s.disk.rename("/f", "/g", cb))).toBe("EIO");
    expect(code(s, (cb) => s.disk.unlink("/f", cb))).toBe("EIO");
    expect(text(readBytes(s, "/f"))).toBe("before");
    s.disk.setFaults({ readFailureProbability: 1, fsyncFailureProbability: 1 });
    expect(code(s, (cb) => s.disk.readFile("/f", cb))).toBe("EIO");
    expect(code(s, (cb) => s.disk.readdir("/", cb))).toBe("EIO");
    expect(code(s, (cb) => s.disk.fsync("/f", cb))).toBe("EIO");
    expect(code(s, (cb) => s.disk.fsyncDir("/", cb))).toBe("EIO");
    // A failed fsync made nothing durable.
    expect(s.disk.durableFiles()).toEqual({});
    const faults = s.trace.events().filter((e) => e.kind === "disk-fault");
    expect(faults.map((e) => e.data["op"])).toEqual(["writeFile", "mkdir", "rename", "unlink", "readFile", "readdir", "fsync", "fsyncDir"]);
    expect(faults.every((e) => e.data["code"] === "EIO")).toBe(true);
    s.disk.clearFaults();
    ok(s, (cb) => s.disk.writeFile("/f", "after", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/f": "after" });
  });

  test("options built with failure probabilities fail the corresponding operations", () => {
    const s = setup({ writeFailureProbability: 1 });
    expect(code(s, (cb) => s.disk.writeFile("/f", "x", cb))).toBe("EIO");
    s.disk.clearFaults();
    expect(code(s, (cb) => s.disk.writeFile("/f", "x", cb))).toBe("EIO");
  });

  test("slowFactor multiplies every latency", () => {
    const s = setup({ latency: { kind: "constant", ms: 1 }, fsyncLatency: { kind: "constant", ms: 2 } });
    ok(s, (cb) => s.disk.writeFile("/f", "x", cb));
    expect(s.scheduler.now).toBe(1);
    s.disk.setFaults({ slowFactor: 10 });
    ok(s, (cb) => s.disk.writeFile("/f", "x", cb));
    expect(s.scheduler.now).toBe(11);
    ok(s, (cb) => s.disk.fsync("/f", cb));
    expect(s.scheduler.now).toBe(31);
    s.disk.clearFaults();
    ok(s, (cb) => s.disk.fsync("/f", cb));
    expect(s.scheduler.now).toBe(33);
  });

  test("operations complete in the order they were issued", () => {
    const s = setup({ latency: { kind: "uniform", minMs: 0, maxMs: 10 } }, "order");
    const done: number[] = [];
    for (let i = 0; i < 50; i++) s.disk.appendFile("/log", `${i},`, () => done.push(i));
    s.scheduler.run();
    expect(done).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(text(s.disk.readFileSync("/log"))).toBe(done.map((i) => `${i},`).join(""));
  });

  test("setFaults refuses invalid values with a sentence naming the field", () => {
    const s = setup();
    expect(() => s.disk.setFaults({ writeFailureProbability: 2 })).toThrow("disk.writeFailureProbability must be in [0, 1], got 2");
    expect(() => s.disk.setFaults({ slowFactor: 0 })).toThrow("disk.slowFactor");
  });

  test("validateDiskOptions names the bad field", () => {
    expect(validateDiskOptions(defaultDiskOptions)).toBeUndefined();
    expect(validateDiskOptions({ ...defaultDiskOptions, readFailureProbability: -0.1 })).toBe(
      "disk.readFailureProbability must be in [0, 1], got -0.1",
    );
    expect(validateDiskOptions({ ...defaultDiskOptions, quotaBytes: -1 })).toContain("disk.quotaBytes");
    expect(validateDiskOptions({ ...defaultDiskOptions, quotaBytes: NaN })).toContain("disk.quotaBytes");
    expect(validateDiskOptions({ ...defaultDiskOptions, fsyncLatency: { kind: "uniform", minMs: 5, maxMs: 1 } })).toContain(
      "disk.fsyncLatency.maxMs",
    );
    expect(() => setup({ slowFactor: Infinity })).toThrow("disk.slowFactor must be a finite number > 0, got Infinity");
  });

  test("a relative path is a caller bug, refused when the operation is issued", () => {
    const s = setup();
    expect(() => s.disk.writeFile("rel/f", "x", () => {})).toThrow("disk paths must be absolute, got 'rel/f' (writeFile)");
    expect(() => s.disk.rename("/a", "b", () => {})).toThrow("got 'b' (rename)");
  });

  test("paths are normalized: repeated slashes, '.' and '..' name the same file", () => {
    const s = setup();
    ok(s, (cb) => s.disk.mkdir("/d", cb));
    ok(s, (cb) => s.disk.writeFile("//d/./x/../f", "x", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/d/f": "x" });
    expect(text(readBytes(s, "/d//f"))).toBe("x");
  });

  test("stats count operations, failures, bytes and syncs", () => {
    const s = setup();
    ok(s, (cb) => s.disk.writeFile("/f", "abcd", cb));
    ok(s, (cb) => s.disk.readFile("/f", cb));
    ok(s, (cb) => s.disk.fsync("/f", cb));
    code(s, (cb) => s.disk.readFile("/g", cb));
    expect(s.disk.stats()).toEqual({ ops: 4, failedOps: 1, bytesWritten: 4, bytesRead: 4, syncs: 1, faults: 0, crashes: 0 });
  });

  test("at full trace level every operation leaves a detail event", () => {
    const scheduler = new Scheduler();
    const node = scheduler.addNode("storage");
    const trace = new Trace(scheduler, { level: "full" });
    const disk = new SimDisk(node, scheduler, Random.fromSeed(3), trace);
    disk.writeFile("/f", "x", () => {});
    disk.readFile("/nope", () => {});
    scheduler.run();
    expect(trace.events().filter((e) => e.kind === "disk-op").map((e) => [e.data["op"], e.data["code"] ?? "ok"])).toEqual([
      ["writeFile", "ok"],
      ["readFile", "ENOENT"],
    ]);
  });
});

describe("SimDisk crashes", () => {
  test("fsynced content in a synced directory survives a crash exactly", () => {
    for (let seed = 0; seed < 30; seed++) {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.mkdir("/chk/1", cb));
      ok(s, (cb) => s.disk.fsyncDir("/", cb));
      ok(s, (cb) => s.disk.fsyncDir("/chk", cb));
      writeDurably(s, "/chk/1/state", "state-bytes");
      ok(s, (cb) => s.disk.appendFile("/chk/1/log", "x", cb));
      crashAndRestart(s);
      expect(s.disk.snapshotFiles()["/chk/1/state"]).toBe("state-bytes");
      expect(s.disk.durableFiles()["/chk/1/state"]).toBe("state-bytes");
      s.disk.verifyMirror();
    }
  });

  test("an unsynced overwrite is lost, torn or kept depending on the seed", () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const s = setup({}, seed);
      writeDurably(s, "/f", "old");
      ok(s, (cb) => s.disk.writeFile("/f", "new content", cb));
      crashAndRestart(s);
      const after = s.disk.snapshotFiles()["/f"];
      expect(after).toBeDefined();
      if (after === "old") outcomes.add("lost");
      else if (after === "new content") outcomes.add("kept");
      else {
        expect("new content".startsWith(after ?? "?")).toBe(true);
        outcomes.add("torn");
      }
      s.disk.verifyMirror();
    }
    expect([...outcomes].sort()).toEqual(["kept", "lost", "torn"]);
  });

  test("an unsynced append is lost, torn or kept and never touches the synced prefix", () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const s = setup({}, seed);
      writeDurably(s, "/log", "synced|");
      ok(s, (cb) => s.disk.appendFile("/log", "appended", cb));
      crashAndRestart(s);
      const after = s.disk.snapshotFiles()["/log"] ?? "";
      expect(after.startsWith("synced|")).toBe(true);
      const tail = after.slice("synced|".length);
      expect("appended".startsWith(tail)).toBe(true);
      outcomes.add(tail === "" ? "lost" : tail === "appended" ? "kept" : "torn");
    }
    expect([...outcomes].sort()).toEqual(["kept", "lost", "torn"]);
  });

  test("the crash trace event counts lost, torn and kept files", () => {
    const totals = { kept: 0, torn: 0, lost: 0 };
    for (let seed = 0; seed < 20; seed++) {
      const s = setup({}, seed);
      writeDurably(s, "/a", "a");
      ok(s, (cb) => s.disk.appendFile("/a", "more", cb));
      crashAndRestart(s);
      const e = s.trace.events().find((x) => x.kind === "disk-crash");
      expect(e).toBeDefined();
      const d = e?.data as { kept: number; torn: number; lost: number };
      expect(d.kept + d.torn + d.lost).toBe(1);
      totals.kept += d.kept;
      totals.torn += d.torn;
      totals.lost += d.lost;
    }
    expect(totals.kept).toBeGreaterThan(0);
    expect(totals.torn).toBeGreaterThan(0);
    expect(totals.lost).toBeGreaterThan(0);
  });

  test("a fsynced new file whose directory was never synced may vanish", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.writeFile("/f", "data", cb));
      ok(s, (cb) => s.disk.fsync("/f", cb));
      crashAndRestart(s);
      const after = s.disk.snapshotFiles()["/f"];
      expect(after === undefined || after === "data").toBe(true);
      seen.add(after ?? "vanished");
    }
    expect([...seen].sort()).toEqual(["data", "vanished"]);
  });

  test("files in a directory whose own entry was never synced vanish with it or survive with it", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.mkdir("/d", cb));
      writeDurably(s, "/d/f", "data");
      crashAndRestart(s);
      const snap = s.disk.snapshotFiles();
      expect(["{}", '{"/d/f":"data"}']).toContain(JSON.stringify(snap));
      seen.add(JSON.stringify(snap));
    }
    expect([...seen].sort()).toEqual(["{\"/d/f\":\"data\"}", "{}"]);
  });

  test("an unsynced unlink may be undone by a crash; a synced one is final", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const s = setup({}, seed);
      writeDurably(s, "/f", "data");
      writeDurably(s, "/g", "gone");
      ok(s, (cb) => s.disk.unlink("/g", cb));
      ok(s, (cb) => s.disk.fsyncDir("/", cb));
      ok(s, (cb) => s.disk.unlink("/f", cb));
      ok(s, (cb) => s.disk.writeFile("/h", "never synced", cb));
      ok(s, (cb) => s.disk.unlink("/h", cb));
      crashAndRestart(s);
      const snap = s.disk.snapshotFiles();
      expect(snap["/g"]).toBeUndefined();
      // A file created and removed without a sync never reappears.
      expect(snap["/h"]).toBeUndefined();
      expect(snap["/f"] === undefined || snap["/f"] === "data").toBe(true);
      seen.add(snap["/f"] ?? "absent");
    }
    expect([...seen].sort()).toEqual(["absent", "data"]);
  });

  test("a rename stays atomic across a crash: the target holds the old or the new file, never both names the new one", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const s = setup({}, seed);
      writeDurably(s, "/current", "old");
      ok(s, (cb) => s.disk.writeFile("/tmp", "new", cb));
      ok(s, (cb) => s.disk.fsync("/tmp", cb));
      ok(s, (cb) => s.disk.rename("/tmp", "/current", cb));
      crashAndRestart(s);
      const snap = s.disk.snapshotFiles();
      expect(snap["/current"] === "old" || snap["/current"] === "new").toBe(true);
      if (snap["/current"] === "new") expect(snap["/tmp"]).toBeUndefined();
      seen.add(snap["/current"] ?? "missing");
      s.disk.verifyMirror();
    }
    expect([...seen].sort()).toEqual(["new", "old"]);
  });

  test("a rename of a durable file never leaves it under both names after a crash", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.mkdir("/src", cb));
      ok(s, (cb) => s.disk.mkdir("/dst", cb));
      ok(s, (cb) => s.disk.fsyncDir("/", cb));
      writeDurably(s, "/src/f", "payload");
      writeDurably(s, "/dst/f", "replaced");
      ok(s, (cb) => s.disk.rename("/src/f", "/dst/f", cb));
      crashAndRestart(s);
      const snap = JSON.stringify(s.disk.snapshotFiles());
      expect([JSON.stringify({ "/dst/f": "payload" }), JSON.stringify({ "/dst/f": "replaced", "/src/f": "payload" })]).toContain(snap);
      seen.add(snap);
    }
    expect(seen.size).toBe(2);
  });

  test("after the rename's directory is synced, the new file is there after every crash", () => {
    for (let seed = 0; seed < 20; seed++) {
      const s = setup({}, seed);
      writeDurably(s, "/current", "old");
      ok(s, (cb) => s.disk.writeFile("/tmp", "new", cb));
      ok(s, (cb) => s.disk.fsync("/tmp", cb));
      ok(s, (cb) => s.disk.rename("/tmp", "/current", cb));
      ok(s, (cb) => s.disk.fsyncDir("/", cb));
      crashAndRestart(s);
      expect(s.disk.snapshotFiles()).toEqual({ "/current": "new" });
    }
  });

  test("syncing the target directory of a cross-directory rename makes the whole rename durable", () => {
    for (let seed = 0; seed < 20; seed++) {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.mkdir("/src", cb));
      ok(s, (cb) => s.disk.mkdir("/dst", cb));
      ok(s, (cb) => s.disk.fsyncDir("/", cb));
      writeDurably(s, "/src/f", "payload");
      ok(s, (cb) => s.disk.rename("/src/f", "/dst/f", cb));
      ok(s, (cb) => s.disk.fsyncDir("/dst", cb));
      expect(s.disk.durableFiles()).toEqual({ "/dst/f": "payload" });
      crashAndRestart(s);
      expect(s.disk.snapshotFiles()).toEqual({ "/dst/f": "payload" });
    }
  });

  test("callbacks of in-flight operations never fire after a crash, and a dead node issues nothing", () => {
    const s = setup({ latency: { kind: "constant", ms: 5 } });
    const fired: string[] = [];
    s.disk.writeFile("/f", "x", () => fired.push("write"));
    s.disk.readFile("/f", () => fired.push("read"));
    s.scheduler.run({ untilTimeMs: 2 });
    s.scheduler.crash("storage");
    s.disk.writeFile("/g", "while dead", () => fired.push("dead write"));
    s.scheduler.run();
    expect(fired).toEqual([]);
    expect(s.disk.snapshotFiles()).toEqual({});
    expect(s.disk.stats().ops).toBe(0);
    s.scheduler.restart("storage");
    ok(s, (cb) => s.disk.writeFile("/f", "after restart", cb));
    expect(s.disk.snapshotFiles()).toEqual({ "/f": "after restart" });
  });

  test("the same seed gives the same post-crash state and trace hash", () => {
    const runOnce = (seed: number): { snap: Record<string, string>; hash: string } => {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.mkdir("/a/b", cb));
      for (let i = 0; i < 10; i++) {
        s.disk.appendFile(`/a/b/f${i % 3}`, `chunk-${i};`, () => {});
        if (i % 4 === 0) s.disk.fsync(`/a/b/f${i % 3}`, () => {});
        if (i % 5 === 0) s.disk.fsyncDir("/a/b", () => {});
      }
      s.disk.rename("/a/b/f0", "/a/f0", () => {});
      s.scheduler.run();
      crashAndRestart(s);
      s.disk.verifyMirror();
      return { snap: s.disk.snapshotFiles(), hash: s.trace.hash() };
    };
    const hashes = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const a = runOnce(seed);
      expect(runOnce(seed)).toEqual(a);
      hashes.add(JSON.stringify(a.snap));
    }
    expect(hashes.size).toBeGreaterThan(1);
  });

  test("after a crash everything on disk is durable, so a second crash changes nothing", () => {
    for (let seed = 0; seed < 10; seed++) {
      const s = setup({}, seed);
      ok(s, (cb) => s.disk.mkdir("/d", cb));
      ok(s, (cb) => s.disk.writeFile("/d/a", "aaa", cb));
      ok(s, (cb) => s.disk.appendFile("/d/b", "bbb", cb));
      crashAndRestart(s);
      const first = s.disk.snapshotFiles();
      expect(s.disk.durableFiles()).toEqual(first);
      crashAndRestart(s);
      expect(s.disk.snapshotFiles()).toEqual(first);
    }
  });
});
