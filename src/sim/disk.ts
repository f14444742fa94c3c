/**
 * The simulated filesystem of one storage node, with a crash model like a real filesystem's.
 *
 * Every operation takes a callback and completes through the scheduler after its latency, owned by
 * the node: when the node crashes, in-flight operations never complete and their callbacks never
 * fire. Operations complete in the order they were issued (each one's latency is its own, but it
 * cannot overtake an earlier one), like a single process calling a synchronous filesystem.
 *
 * The disk keeps a model of the current view (what reads and readdir see) and of what survives a
 * crash:
 * - per file (inode): its current content, its durable content and the writes since the last
 *   `fsync` (in order);
 * - per directory: its current entries and its durable entries. An entry change (create, rename,
 *   unlink, mkdir, rmdir) is durable only after `fsyncDir` of its directory. A rename changes two
 *   entries, possibly in two directories; they belong to one change group and are made durable,
 *   or survive a crash, together (rename stays atomic), and `fsyncDir` of either directory makes
 *   the whole group durable (as a journaling filesystem commits the rename in one transaction).
 *
 * On the node's crash the post-crash state is the durable state plus, for each unsynced change, a
 * seeded outcome: each entry change group survives or not; each reachable file gets its durable
 * content followed by the first k of its unsynced writes, and possibly a prefix of write k+1 (a
 * torn write; for a truncating `writeFile` the prefix replaces the old content, so a cut at byte 0
 * leaves an empty file). Nothing is invented: every byte after a crash was written by someone.
 * The current view is then replaced by the post-crash state, which is all durable.
 *
 * A memfs `Volume` mirrors the current view independently, from the same sequence of effects, for
 * inspection (`snapshotFiles`, `exists`, `readFileSync`, `readdirSync`) and for `verifyMirror`,
 * which checks that the model and memfs agree. The mirror is brought up to date lazily, when
 * inspected (or when many effects are waiting): memfs is slow (it asks the real process for its
 * uid on every node it creates and every permission check), and a run rarely inspects its disk.
 *
 * Not modelled: hard links, permissions, timestamps, partial effects of a failed operation (an
 * injected EIO or ENOSPC leaves the current view unchanged; a failed fsync makes nothing durable).
 */
import { Volume } from "memfs";

/**
 * The process memfs sees: the simulated disk must not ask the real process for its uid, gid or
 * working directory (real syscalls on every file creation, and real-world input to the simulation).
 */
const SIMULATED_PROCESS = {
  cwd: (): string => "/",
  platform: "linux",
  emitWarning: (): void => {},
  env: {},
  getuid: (): number => 0,
  getgid: (): number => 0,
};
const newVolume = (): Volume => Volume.fromNestedJSON({}, "/", { process: SIMULATED_PROCESS } as never);
import { assert } from "./assert.ts";
import { validateDistribution } from "./random.ts";
import type { Distribution, Random } from "./random.ts";
import type { Scheduler, SimNode } from "./scheduler.ts";
import type { Trace } from "./trace.ts";

// ---- options ------------------------------------------------------------------------------

export type DiskOptions = {
  /** Latency of each operation other than fsync/fsyncDir, in milliseconds. */
  readonly latency: Distribution;
  /** Latency of each fsync and fsyncDir, in milliseconds. */
  readonly fsyncLatency: Distribution;
  /** Probability that a mutating operation (writeFile, appendFile, mkdir, rename, unlink, rmdir) fails with EIO. */
  readonly writeFailureProbability: number;
  /** Probability that a readFile or readdir fails with EIO. */
  readonly readFailureProbability: number;
  /** Probability that an fsync or fsyncDir fails with EIO (nothing becomes durable). */
  readonly fsyncFailureProbability: number;
  /** Bound on the total size of the files in the current view, in bytes; a write past it fails ENOSPC. */
  readonly quotaBytes: number;
  /** Multiplies every latency (1 = normal); a "slow disk" fault raises it. */
  readonly slowFactor: number;
};

/** The knobs a fault injector may change at runtime (`setFaults`), and `clearFaults` restores. */
export type DiskFaults = Pick<
  DiskOptions,
  "writeFailureProbability" | "readFailureProbability" | "fsyncFailureProbability" | "quotaBytes" | "slowFactor"
>;

export const defaultDiskOptions: DiskOptions = {
  latency: { kind: "uniform", minMs: 0.1, maxMs: 1 },
  fsyncLatency: { kind: "uniform", minMs: 1, maxMs: 5 },
  writeFailureProbability: 0,
  readFailureProbability: 0,
  fsyncFailureProbability: 0,
  quotaBytes: Infinity,
  slowFactor: 1,
};

/** Checks disk options; returns an error sentence naming the field, or undefined. */
export function validateDiskOptions(o: DiskOptions): string | undefined {
  const probability = (v: number, name: string): string | undefined =>
    v >= 0 && v <= 1 ? undefined : `disk.${name} must be in [0, 1], got ${v}`;
  return (
    validateDistribution(o.latency, "disk.latency") ??
    validateDistribution(o.fsyncLatency, "disk.fsyncLatency") ??
    probability(o.writeFailureProbability, "writeFailureProbability") ??
    probability(o.readFailureProbability, "readFailureProbability") ??
    probability(o.fsyncFailureProbability, "fsyncFailureProbability") ??
    (o.quotaBytes >= 0 ? undefined : `disk.quotaBytes must be a number >= 0 (Infinity for none), got ${o.quotaBytes}`) ??
    (Number.isFinite(o.slowFactor) && o.slowFactor > 0
      ? undefined
      : `disk.slowFactor must be a finite number > 0, got ${o.slowFactor}`)
  );
}

// ---- errors and callbacks -----------------------------------------------------------------

export type DiskErrorCode =
  | "EIO"
  | "ENOSPC"
  | "ENOENT"
  | "EEXIST"
  | "ENOTDIR"
  | "EISDIR"
  | "ENOTEMPTY"
  | "EINVAL"
  /** Not produced by SimDisk itself (a crashed node's operations never complete); for layers above that report a crash as an error. */
  | "ECRASHED";

export type DiskOp =
  | "writeFile"
  | "appendFile"
  | "readFile"
  | "fsync"
  | "mkdir"
  | "readdir"
  | "rename"
  | "unlink"
  | "rmdir"
  | "fsyncDir";

const errorText: Record<DiskErrorCode, string> = {
  EIO: "i/o error",
  ENOSPC: "no space left on device",
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  ENOTDIR: "not a directory",
  EISDIR: "illegal operation on a directory",
  ENOTEMPTY: "directory not empty",
  EINVAL: "invalid argument",
  ECRASHED: "node crashed",
};

/** A simulated I/O error with a real error code, as Node's fs reports them. */
export class DiskError extends Error {
  override readonly name = "DiskError";
  constructor(
    readonly code: DiskErrorCode,
    readonly op: DiskOp,
    readonly path: string,
  ) {
    // No stack trace: a simulated error is a value the simulation hands to a callback (often on a
    // hot path), and the message names the operation and path.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${errorText[code]}, ${op} '${path}'`);
    Error.stackTraceLimit = limit;
  }
}

export type DiskCallback = (err: DiskError | null) => void;
export type ReadFileCallback = (err: DiskError | null, data?: Uint8Array) => void;
export type ReaddirCallback = (err: DiskError | null, names?: string[]) => void;

export type DiskStats = {
  /** Operations completed (successfully or not). */
  readonly ops: number;
  /** Operations completed with an error. */
  readonly failedOps: number;
  /** Bytes written by successful writeFile/appendFile. */
  readonly bytesWritten: number;
  /** Bytes returned by successful readFile. */
  readonly bytesRead: number;
  /** Successful fsync and fsyncDir calls. */
  readonly syncs: number;
  /** Injected faults: EIO by probability, ENOSPC past the quota. */
  readonly faults: number;
  /** Crashes of the node this disk survived. */
  readonly crashes: number;
};

// ---- the model ----------------------------------------------------------------------------

type PendingWrite = { readonly mode: "replace" | "append"; readonly data: Uint8Array };

type FileNode = {
  readonly kind: "file";
  readonly id: number;
  /** What reads see (never mutated in place: every write makes a new array). */
  content: Uint8Array;
  /** What survives a crash for sure. */
  durable: Uint8Array;
  /** Writes since the last fsync, oldest first: `durable` + all of them = `content`. */
  pending: PendingWrite[];
};

type DirNode = {
  readonly kind: "dir";
  readonly id: number;
  current: Map<string, FsNode>;
  durable: Map<string, FsNode>;
};

type FsNode = FileNode | DirNode;

type EntryKey = { readonly dir: DirNode; readonly name: string };

/** Unsynced entry changes that survive a crash together (the two sides of a rename). */
type ChangeGroup = { readonly id: number; readonly keys: Map<string, EntryKey> };

type Outcome<T> = { readonly ok: true; readonly value: T; readonly bytes?: number } | { readonly ok: false; readonly code: DiskErrorCode };

type OpClass = "read" | "write" | "sync";

const opClass: Record<DiskOp, OpClass> = {
  writeFile: "write",
  appendFile: "write",
  readFile: "read",
  fsync: "sync",
  mkdir: "write",
  readdir: "read",
  rename: "write",
  unlink: "write",
  rmdir: "write",
  fsyncDir: "sync",
};

type AnyCallback = (err: DiskError | null, value?: unknown) => void;

/** A failed outcome (made only on the rare failure path). */
const failure = (code: DiskErrorCode): Outcome<never> => ({ ok: false, code });

/** The durable content of a new file (never mutated, like every content array). */
const EMPTY = new Uint8Array(0);

/**
 * An effect on the current view waiting for the memfs mirror, as data (no closure per operation).
 * `arg`: the bytes of a write, the target of a rename, null otherwise.
 */
type MirrorEffect = {
  readonly kind: "writeFile" | "appendFile" | "mkdir" | "rmdir" | "unlink" | "rename";
  readonly path: string;
  readonly arg: Uint8Array | string | null;
};

/** The outcomes that carry nothing (shared: most operations end with one of these). */
const OK: Outcome<undefined> = { ok: true, value: undefined };
const EIO: Outcome<never> = { ok: false, code: "EIO" };

const decoder = new TextDecoder();

const keyOf = (dir: DirNode, name: string): string => `${dir.id}/${name}`;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function applyWrite(base: Uint8Array, w: PendingWrite): Uint8Array {
  return w.mode === "replace" ? w.data : concat(base, w.data);
}

/** An absolute path split into its normalized components, and the normalized path they make. */
type SplitPath = { readonly parts: readonly string[]; readonly norm: string };

/** Normalize an absolute POSIX path ("." and ".." resolved, empty parts dropped); cached. */
function split(path: string): SplitPath {
  const cached = splitCache.get(path);
  if (cached !== undefined) return cached;
  if (!path.startsWith("/")) assert(false, `disk paths must be absolute, got '${path}'`);
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  const entry: SplitPath = { parts: Object.freeze(parts), norm: "/" + parts.join("/") };
  if (splitCache.size >= SPLIT_CACHE_MAX) splitCache.clear();
  splitCache.set(path, entry);
  return entry;
}

/** Normalized components of an absolute POSIX path. */
const splitPath = (path: string): readonly string[] => split(path).parts;

/** The normalized form of an absolute POSIX path (what memfs is given). */
const normPath = (path: string): string => split(path).norm;

/** Paths split so far (the same few paths recur on every checkpoint), bounded by SPLIT_CACHE_MAX. */
const splitCache = new Map<string, SplitPath>();
const SPLIT_CACHE_MAX = 4096;

/** Effects waiting for the memfs mirror beyond which they are applied at once (bounds the log's memory). */
const MIRROR_LOG_MAX = 4096;

// ---- the disk -----------------------------------------------------------------------------

export class SimDisk {
  readonly options: DiskOptions;
  private faultKnobs: DiskFaults;
  /** The memfs mirror of the current view, as of the effects applied so far; created on first inspection (see `mirror`). */
  private volume: Volume | undefined;
  /** Effects on the current view not yet applied to the memfs mirror, oldest first. */
  private mirrorLog: MirrorEffect[] = [];
  private root: DirNode;
  private nextId = 1;
  private readonly groups = new Map<number, ChangeGroup>();
  private readonly groupOf = new Map<string, ChangeGroup>();
  /** The unsynced change groups touching each directory (so fsyncDir need not scan them all). */
  private readonly groupsByDir = new Map<DirNode, Set<ChangeGroup>>();
  private nextGroupId = 0;
  private currentBytes = 0;
  private lastCompletionMs = 0;
  private readonly latencyRandom: Random;
  private readonly faultRandom: Random;
  private readonly crashRandom: Random;
  private counters = { ops: 0, failedOps: 0, bytesWritten: 0, bytesRead: 0, syncs: 0, faults: 0, crashes: 0 };

  /**
   * One disk per storage node. Give it its own random stream (e.g. `random.fork("disk/" + nodeId)`);
   * it forks "disk-latency", "disk-faults" and "disk-crash" from it.
   */
  constructor(
    readonly node: SimNode,
    private readonly scheduler: Scheduler,
    random: Random,
    private readonly trace: Trace,
    options: Partial<DiskOptions> = {},
  ) {
    this.options = { ...defaultDiskOptions, ...options };
    const err = validateDiskOptions(this.options);
    assert(err === undefined, err ?? "");
    this.faultKnobs = this.baseFaults();
    this.root = { kind: "dir", id: 0, current: new Map(), durable: new Map() };
    this.latencyRandom = random.fork("disk-latency");
    this.faultRandom = random.fork("disk-faults");
    this.crashRandom = random.fork("disk-crash");
    node.onCrash(() => this.crashNow());
  }

  // ---- fault knobs --------------------------------------------------------------------------

  /** Change fault knobs at runtime (a "slow disk" or "failing disk" fault); affects operations issued from now on. */
  setFaults(faults: Partial<DiskFaults>): void {
    const next = { ...this.faultKnobs, ...faults };
    const err = validateDiskOptions({ ...this.options, ...next });
    assert(err === undefined, err ?? "");
    this.faultKnobs = next;
    this.trace.emit(this.node.id, "disk-faults-set", { ...next, quotaBytes: finiteOrNull(next.quotaBytes) });
  }

  /** Back to the knobs of the options (the fault's repair). */
  clearFaults(): void {
    this.faultKnobs = this.baseFaults();
    this.trace.emit(this.node.id, "disk-faults-cleared", {});
  }

  get faults(): DiskFaults {
    return this.faultKnobs;
  }

  private baseFaults(): DiskFaults {
    const o = this.options;
    return {
      writeFailureProbability: o.writeFailureProbability,
      readFailureProbability: o.readFailureProbability,
      fsyncFailureProbability: o.fsyncFailureProbability,
      quotaBytes: o.quotaBytes,
      slowFactor: o.slowFactor,
    };
  }

  stats(): DiskStats {
    return { ...this.counters };
  }

  // ---- operations -----------------------------------------------------------------------------

  /** Create or truncate `path` and write `data`. The parent directory must exist (ENOENT otherwise). */
  writeFile(path: string, data: Uint8Array | string, cb: DiskCallback): void {
    this.issue("writeFile", path, "", toBytes(data), cb);
  }

  /** Append `data` to `path`, creating the file if it does not exist. */
  appendFile(path: string, data: Uint8Array | string, cb: DiskCallback): void {
    this.issue("appendFile", path, "", toBytes(data), cb);
  }

  /** The file's current content (a fresh copy). */
  readFile(path: string, cb: ReadFileCallback): void {
    this.issue("readFile", path, "", null, cb as AnyCallback);
  }

  /** Make the file's content durable (not its directory entry: see fsyncDir). On a directory, same as fsyncDir. */
  fsync(path: string, cb: DiskCallback): void {
    this.issue("fsync", path, "", null, cb);
  }

  /** Create a directory and any missing parents (mkdir -p); an existing directory is fine. */
  mkdir(path: string, cb: DiskCallback): void {
    this.issue("mkdir", path, "", null, cb);
  }

  /** The names in a directory, sorted. */
  readdir(path: string, cb: ReaddirCallback): void {
    this.issue("readdir", path, "", null, cb as AnyCallback);
  }

  /**
   * Atomically move `from` to `to`, replacing a file at `to` (or an empty directory when `from` is
   * a directory). Across a crash the rename happened entirely or not at all.
   */
  rename(from: string, to: string, cb: DiskCallback): void {
    if (!from.startsWith("/")) assert(false, `disk paths must be absolute, got '${from}' (rename)`);
    if (!to.startsWith("/")) assert(false, `disk paths must be absolute, got '${to}' (rename)`);
    this.issue("rename", from, to, null, cb);
  }

  /** Remove a file (EISDIR on a directory). */
  unlink(path: string, cb: DiskCallback): void {
    this.issue("unlink", path, "", null, cb);
  }

  /** Remove an empty directory. */
  rmdir(path: string, cb: DiskCallback): void {
    this.issue("rmdir", path, "", null, cb);
  }

  /** Make the directory's entries (creations, renames, unlinks within it) durable. */
  fsyncDir(path: string, cb: DiskCallback): void {
    this.issue("fsyncDir", path, "", null, cb);
  }

  /**
   * Draw the operation's fault and latency and schedule its completion. `to` is the target of a
   * rename ("" otherwise), `data` the bytes of a write (null otherwise). One closure per operation:
   * the effect is chosen by `op` when it completes.
   */
  private issue(op: DiskOp, path: string, to: string, data: Uint8Array | null, cb: AnyCallback): void {
    // A caller's bug shows where it was made, not when the operation completes.
    if (!path.startsWith("/")) assert(false, `disk paths must be absolute, got '${path}' (${op})`);
    // A dead process issues nothing.
    if (!this.node.alive) return;
    const knobs = this.faultKnobs;
    const cls = opClass[op];
    const failureProbability =
      cls === "read" ? knobs.readFailureProbability : cls === "write" ? knobs.writeFailureProbability : knobs.fsyncFailureProbability;
    const injectEio = this.faultRandom.chance(failureProbability);
    const latencyMs = this.latencyRandom.sample(cls === "sync" ? this.options.fsyncLatency : this.options.latency) * knobs.slowFactor;
    const due = Math.max(this.scheduler.now + latencyMs, this.lastCompletionMs);
    this.lastCompletionMs = due;
    this.scheduler.at(due, () => this.complete(op, path, to, data, injectEio, cb), this.node);
  }

  private complete(op: DiskOp, path: string, to: string, data: Uint8Array | null, injectEio: boolean, cb: AnyCallback): void {
    this.counters.ops++;
    const outcome: Outcome<unknown> = injectEio ? EIO : this.perform(op, path, to, data);
    if (!outcome.ok) {
      const label = opLabel(op, path, to);
      this.counters.failedOps++;
      if (outcome.code === "EIO" || outcome.code === "ENOSPC") {
        this.counters.faults++;
        this.trace.emit(this.node.id, "disk-fault", { op, path: label, code: outcome.code });
      } else if (this.trace.detailed) {
        this.trace.detail(this.node.id, "disk-op", { op, path: label, code: outcome.code });
      }
      cb(new DiskError(outcome.code, op, label));
      return;
    }
    if (this.trace.detailed) {
      this.trace.detail(this.node.id, "disk-op", { op, path: opLabel(op, path, to), bytes: outcome.bytes });
    }
    cb(null, outcome.value);
  }

  private perform(op: DiskOp, path: string, to: string, data: Uint8Array | null): Outcome<unknown> {
    switch (op) {
      case "writeFile":
        return this.doWrite(path, data as Uint8Array, "replace");
      case "appendFile":
        return this.doWrite(path, data as Uint8Array, "append");
      case "readFile":
        return this.doReadFile(path);
      case "fsync":
        return this.doFsync(path, false);
      case "mkdir":
        return this.doMkdir(path);
      case "readdir":
        return this.doReaddir(path);
      case "rename":
        return this.doRename(path, to);
      case "unlink":
        return this.doRemove(path, "file");
      case "rmdir":
        return this.doRemove(path, "dir");
      case "fsyncDir":
        return this.doFsync(path, true);
    }
  }

  // ---- effects (run at completion time) -----------------------------------------------------

  private doWrite(path: string, data: Uint8Array, mode: "replace" | "append"): Outcome<undefined> {
    const sp = split(path);
    const dir = this.resolveParent(sp.parts);
    if (typeof dir === "string") return failure(dir);
    const name = sp.parts[sp.parts.length - 1] as string;
    const existing = dir.current.get(name);
    if (existing !== undefined && existing.kind === "dir") return failure("EISDIR");
    const oldLength = existing === undefined ? 0 : existing.content.length;
    const newLength = mode === "replace" ? data.length : oldLength + data.length;
    if (this.currentBytes - oldLength + newLength > this.faultKnobs.quotaBytes) return failure("ENOSPC");
    const write: PendingWrite = { mode, data };
    if (existing === undefined) {
      const file: FileNode = { kind: "file", id: this.nextId++, content: data, durable: EMPTY, pending: [write] };
      dir.current.set(name, file);
      this.markChanged(dir, name);
    } else {
      existing.content = applyWrite(existing.content, write);
      existing.pending.push(write);
    }
    this.currentBytes += newLength - oldLength;
    this.counters.bytesWritten += data.length;
    this.toMirror(mode === "replace" ? "writeFile" : "appendFile", sp.norm, data);
    return { ok: true, value: undefined, bytes: data.length };
  }

  private doReadFile(path: string): Outcome<Uint8Array> {
    const found = this.resolve(split(path).parts);
    if (typeof found === "string") return failure(found);
    if (found.kind === "dir") return failure("EISDIR");
    const data = found.content.slice();
    this.counters.bytesRead += data.length;
    return { ok: true, value: data, bytes: data.length };
  }

  private doReaddir(path: string): Outcome<string[]> {
    const found = this.resolve(split(path).parts);
    if (typeof found === "string") return failure(found);
    if (found.kind === "file") return failure("ENOTDIR");
    const names = [...found.current.keys()].sort();
    return { ok: true, value: names };
  }

  private doFsync(path: string, dirOnly: boolean): Outcome<undefined> {
    const n = this.resolve(split(path).parts);
    if (typeof n === "string") return failure(n);
    if (n.kind === "file") {
      if (dirOnly) return failure("ENOTDIR");
      n.durable = n.content;
      if (n.pending.length > 0) n.pending = [];
    } else {
      this.syncDirEntries(n);
    }
    this.counters.syncs++;
    return OK;
  }

  private doMkdir(path: string): Outcome<undefined> {
    const { parts, norm } = split(path);
    // Check first, so a failing mkdir -p changes nothing.
    let probe: DirNode | undefined = this.root;
    for (let i = 0; i < parts.length && probe !== undefined; i++) {
      const child: FsNode | undefined = probe.current.get(parts[i] as string);
      if (child !== undefined && child.kind === "file") return failure(i === parts.length - 1 ? "EEXIST" : "ENOTDIR");
      probe = child;
    }
    let dir: DirNode = this.root;
    for (const name of parts) {
      let child: FsNode | undefined = dir.current.get(name);
      if (child === undefined) {
        child = { kind: "dir", id: this.nextId++, current: new Map(), durable: new Map() };
        dir.current.set(name, child);
        this.markChanged(dir, name);
      }
      if (child.kind !== "dir") assert(false, `mkdir: ${name} must be a directory after the check`);
      dir = child;
    }
    if (parts.length > 0) this.toMirror("mkdir", norm, null);
    return OK;
  }

  private doRename(from: string, to: string): Outcome<undefined> {
    const { parts: fromParts, norm: fromPath } = split(from);
    const { parts: toParts, norm: toPath } = split(to);
    if (fromParts.length === 0 || toParts.length === 0) return failure("EINVAL");
    const srcDir = this.resolveParent(fromParts);
    if (typeof srcDir === "string") return failure(srcDir);
    const srcName = fromParts[fromParts.length - 1] as string;
    const node = srcDir.current.get(srcName);
    if (node === undefined) return failure("ENOENT");
    const dstDir = this.resolveParent(toParts);
    if (typeof dstDir === "string") return failure(dstDir);
    const dstName = toParts[toParts.length - 1] as string;
    if (fromPath === toPath) return OK;
    if (node.kind === "dir" && toParts.length > fromParts.length && fromParts.every((p, i) => toParts[i] === p)) {
      return failure("EINVAL");
    }
    const target = dstDir.current.get(dstName);
    if (target !== undefined) {
      if (node.kind === "file" && target.kind === "dir") return failure("EISDIR");
      if (node.kind === "dir" && target.kind === "file") return failure("ENOTDIR");
      if (target.kind === "dir" && target.current.size > 0) return failure("ENOTEMPTY");
    }
    srcDir.current.delete(srcName);
    dstDir.current.set(dstName, node);
    this.markChangedPair(srcDir, srcName, dstDir, dstName);
    if (target !== undefined && target.kind === "file") this.currentBytes -= target.content.length;
    if (target !== undefined && target.kind === "dir") this.toMirror("rmdir", toPath, null);
    this.toMirror("rename", fromPath, toPath);
    return OK;
  }

  private doRemove(path: string, kind: "file" | "dir"): Outcome<undefined> {
    const { parts, norm } = split(path);
    if (parts.length === 0) return failure(kind === "file" ? "EISDIR" : "EINVAL");
    const dir = this.resolveParent(parts);
    if (typeof dir === "string") return failure(dir);
    const name = parts[parts.length - 1] as string;
    const node = dir.current.get(name);
    if (node === undefined) return failure("ENOENT");
    if (kind === "file" && node.kind === "dir") return failure("EISDIR");
    if (kind === "dir" && node.kind === "file") return failure("ENOTDIR");
    if (node.kind === "dir" && node.current.size > 0) return failure("ENOTEMPTY");
    dir.current.delete(name);
    this.markChanged(dir, name);
    if (node.kind === "file") {
      this.currentBytes -= node.content.length;
      this.toMirror("unlink", norm, null);
    } else {
      this.toMirror("rmdir", norm, null);
    }
    return OK;
  }

  // ---- the memfs mirror ---------------------------------------------------------------------------

  /** Record an effect for the memfs mirror; applied at the next inspection, or now if many are waiting. */
  private toMirror(kind: MirrorEffect["kind"], path: string, arg: Uint8Array | string | null): void {
    this.mirrorLog.push({ kind, path, arg });
    if (this.mirrorLog.length >= MIRROR_LOG_MAX) this.mirror();
  }

  /** The memfs mirror with every recorded effect applied, in order. */
  private mirror(): Volume {
    const log = this.mirrorLog;
    this.mirrorLog = [];
    const v = (this.volume ??= newVolume());
    for (const { kind, path, arg } of log) {
      switch (kind) {
        case "writeFile":
          v.writeFileSync(path, arg as Uint8Array);
          break;
        case "appendFile":
          v.appendFileSync(path, arg as Uint8Array);
          break;
        case "mkdir":
          v.mkdirSync(path, { recursive: true });
          break;
        case "rmdir":
          v.rmdirSync(path);
          break;
        case "unlink":
          v.unlinkSync(path);
          break;
        case "rename":
          v.renameSync(path, arg as string);
          break;
      }
    }
    return v;
  }

  // ---- path resolution in the current view ----------------------------------------------------

  /** The node at the first `count` components of `parts` (all of them by default), or why there is none. */
  private resolve(parts: readonly string[], count: number = parts.length): FsNode | DiskErrorCode {
    let n: FsNode = this.root;
    for (let i = 0; i < count; i++) {
      if (n.kind === "file") return "ENOTDIR";
      const child: FsNode | undefined = n.current.get(parts[i] as string);
      if (child === undefined) return "ENOENT";
      n = child;
    }
    return n;
  }

  /** The directory that holds the last component, which must exist as a directory (or why not). */
  private resolveParent(parts: readonly string[]): DirNode | DiskErrorCode {
    if (parts.length === 0) return "EISDIR";
    const parent = this.resolve(parts, parts.length - 1);
    if (typeof parent === "string") return parent;
    if (parent.kind === "file") return "ENOTDIR";
    return parent;
  }

  // ---- directory durability -------------------------------------------------------------------

  /** Record an unsynced change of one entry (it joins the group it already belongs to, if any). */
  private markChanged(dir: DirNode, name: string): void {
    const s = keyOf(dir, name);
    let group = this.groupOf.get(s);
    if (group === undefined) {
      group = { id: this.nextGroupId++, keys: new Map() };
      this.groups.set(group.id, group);
      this.groupOf.set(s, group);
    }
    group.keys.set(s, { dir, name });
    this.indexGroup(dir, group);
  }

  /** Record the two entry changes of a rename: they join one group (with the groups they already belong to). */
  private markChangedPair(dirA: DirNode, nameA: string, dirB: DirNode, nameB: string): void {
    const keys: readonly EntryKey[] = [
      { dir: dirA, name: nameA },
      { dir: dirB, name: nameB },
    ];
    const ids = keys.map((k) => keyOf(k.dir, k.name));
    const touched: ChangeGroup[] = [];
    for (const s of ids) {
      const g = this.groupOf.get(s);
      if (g !== undefined && !touched.includes(g)) touched.push(g);
    }
    if (touched.length > 1) touched.sort((a, b) => a.id - b.id);
    let group = touched[0];
    if (group === undefined) {
      group = { id: this.nextGroupId++, keys: new Map() };
      this.groups.set(group.id, group);
    }
    for (let t = 1; t < touched.length; t++) {
      const other = touched[t] as ChangeGroup;
      for (const [s, k] of other.keys) {
        group.keys.set(s, k);
        this.groupOf.set(s, group);
        this.groupsByDir.get(k.dir)?.delete(other);
        this.indexGroup(k.dir, group);
      }
      this.groups.delete(other.id);
    }
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as EntryKey;
      const s = ids[i] as string;
      group.keys.set(s, k);
      this.groupOf.set(s, group);
      this.indexGroup(k.dir, group);
    }
  }

  private indexGroup(dir: DirNode, g: ChangeGroup): void {
    let set = this.groupsByDir.get(dir);
    if (set === undefined) {
      set = new Set();
      this.groupsByDir.set(dir, set);
    }
    set.add(g);
  }

  /** fsyncDir: every change group touching `dir` becomes durable as a whole. */
  private syncDirEntries(dir: DirNode): void {
    // In creation order, as a scan of `groups` would visit them.
    const toSync = [...(this.groupsByDir.get(dir) ?? [])].sort((a, b) => a.id - b.id);
    for (const g of toSync) {
      for (const [s, k] of g.keys) {
        const cur = k.dir.current.get(k.name);
        if (cur === undefined) k.dir.durable.delete(k.name);
        else k.dir.durable.set(k.name, cur);
        this.groupOf.delete(s);
        this.groupsByDir.get(k.dir)?.delete(g);
      }
      this.groups.delete(g.id);
    }
  }

  // ---- crash ------------------------------------------------------------------------------------

  private crashNow(): void {
    this.counters.crashes++;
    const r = this.crashRandom.fork(`crash-${this.counters.crashes}`);
    const entryRandom = r.fork("entries");
    const contentRandom = r.fork("content");

    // 1. Which unsynced entry change groups survive.
    const overrides = new Map<DirNode, Map<string, FsNode | undefined>>();
    let entryChangesKept = 0;
    let entryChangesLost = 0;
    const groups = [...this.groups.values()].sort((a, b) => a.id - b.id);
    for (const g of groups) {
      if (!entryRandom.chance(0.5)) {
        entryChangesLost++;
        continue;
      }
      entryChangesKept++;
      for (const k of g.keys.values()) {
        let m = overrides.get(k.dir);
        if (m === undefined) overrides.set(k.dir, (m = new Map()));
        m.set(k.name, k.dir.current.get(k.name));
      }
    }
    this.groups.clear();
    this.groupOf.clear();
    this.groupsByDir.clear();

    // 2. The reachable tree after the crash; it becomes both current and durable.
    const files: FileNode[] = [];
    const dirs = this.walk((dir) => {
      const entries = new Map(dir.durable);
      for (const [name, n] of overrides.get(dir) ?? []) {
        if (n === undefined) entries.delete(name);
        else entries.set(name, n);
      }
      return entries;
    });
    for (const { dir, entries } of dirs) {
      dir.current = entries;
      dir.durable = new Map(entries);
      for (const n of entries.values()) if (n.kind === "file") files.push(n);
    }

    // 3. What each reachable file holds.
    let kept = 0;
    let torn = 0;
    let lost = 0;
    for (const f of files) {
      const n = f.pending.length;
      if (n === 0) {
        f.content = f.durable;
        continue;
      }
      const full = contentRandom.int(0, n);
      let content = f.durable;
      for (let i = 0; i < full; i++) content = applyWrite(content, f.pending[i] as PendingWrite);
      let tornWrite = false;
      const next = f.pending[full];
      if (next !== undefined && next.data.length > 0 && contentRandom.chance(0.5)) {
        const cut = contentRandom.int(0, next.data.length - 1);
        content = applyWrite(content, { mode: next.mode, data: next.data.slice(0, cut) });
        tornWrite = true;
      }
      if (full === n) kept++;
      else if (full === 0 && !tornWrite) lost++;
      else torn++;
      f.content = content;
      f.durable = content;
      f.pending = [];
    }

    // 4. Rebuild the current view.
    this.volume = undefined;
    this.mirrorLog = [];
    this.currentBytes = 0;
    for (const { dir, path } of dirs) {
      if (dir !== this.root) this.toMirror("mkdir", path, null);
      for (const [name, n] of dir.current) {
        if (n.kind === "file") {
          this.toMirror("writeFile", childPath(path, name), n.content);
          this.currentBytes += n.content.length;
        }
      }
    }
    this.lastCompletionMs = 0;
    this.trace.emit(this.node.id, "disk-crash", { kept, torn, lost, entryChangesKept, entryChangesLost });
  }

  /**
   * Breadth-first walk from the root over the entries `entriesOf` gives, names sorted, each node
   * asserted to be reached at most once. Directories come parents first.
   */
  private walk(entriesOf: (dir: DirNode) => Map<string, FsNode>): Array<{ dir: DirNode; path: string; entries: Map<string, FsNode> }> {
    const out: Array<{ dir: DirNode; path: string; entries: Map<string, FsNode> }> = [];
    const seen = new Set<FsNode>([this.root]);
    const queue: Array<{ dir: DirNode; path: string }> = [{ dir: this.root, path: "/" }];
    const bound = this.nextId + 1;
    for (let i = 0; i < queue.length; i++) {
      assert(i < bound, `disk walk visited more directories than exist (${bound})`);
      const { dir, path } = queue[i] as { dir: DirNode; path: string };
      const all = entriesOf(dir);
      const entries = new Map<string, FsNode>();
      for (const name of [...all.keys()].sort()) {
        const n = all.get(name) as FsNode;
        // Renames are atomic change groups, so no state the model can reach names a file or
        // directory twice (a hard link) or puts a directory inside itself.
        assert(!seen.has(n), `disk model reached ${n.kind} #${n.id} twice (at ${childPath(path, name)})`);
        seen.add(n);
        entries.set(name, n);
        if (n.kind === "dir") queue.push({ dir: n, path: childPath(path, name) });
      }
      out.push({ dir, path, entries });
    }
    return out;
  }

  // ---- inspection (no latency, no faults; works while the node is down) -------------------------

  /** Whether `path` exists in the current view. */
  exists(path: string): boolean {
    return this.mirror().existsSync(normPath(path));
  }

  /** The current content of a file; throws DiskError (ENOENT, EISDIR, ENOTDIR). */
  readFileSync(path: string): Uint8Array {
    const found = this.resolve(splitPath(path));
    if (typeof found === "string") throw new DiskError(found, "readFile", path);
    if (found.kind === "dir") throw new DiskError("EISDIR", "readFile", path);
    return new Uint8Array(this.mirror().readFileSync(normPath(path)) as Uint8Array);
  }

  /** The sorted names in a directory of the current view; throws DiskError (ENOENT, ENOTDIR). */
  readdirSync(path: string): string[] {
    const found = this.resolve(splitPath(path));
    if (typeof found === "string") throw new DiskError(found, "readdir", path);
    if (found.kind === "file") throw new DiskError("ENOTDIR", "readdir", path);
    return (this.mirror().readdirSync(normPath(path)) as string[]).map(String).sort();
  }

  /** Every file of the current view (as memfs serves it): sorted paths, content as UTF-8. */
  snapshotFiles(): Record<string, string> {
    const volume = this.mirror();
    const json = volume.toJSON();
    const out: Record<string, string> = {};
    for (const p of Object.keys(json).sort()) {
      if (json[p] === null || json[p] === undefined) continue;
      out[p] = decoder.decode(volume.readFileSync(p) as Uint8Array);
    }
    return out;
  }

  /**
   * The files as they would be after a crash in which no unsynced change survives: durable entries,
   * durable content. Sorted paths, UTF-8. (A crash may also keep unsynced changes, so this is not a
   * lower bound for a path whose entry has an unsynced change, e.g. an unsynced rename onto it.)
   */
  durableFiles(): Record<string, string> {
    const out: Record<string, string> = {};
    const paths: Array<[string, FileNode]> = [];
    for (const { path, entries } of this.walk((dir) => dir.durable)) {
      for (const [name, n] of entries) if (n.kind === "file") paths.push([childPath(path, name), n]);
    }
    paths.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [p, f] of paths) out[p] = decoder.decode(f.durable);
    return out;
  }

  /** Total size of the files in the current view, in bytes (what the quota bounds). */
  get usedBytes(): number {
    return this.currentBytes;
  }

  /** Asserts that memfs and the durability model agree on the current view (for tests and checkers). */
  verifyMirror(): void {
    const expected: Record<string, string | null> = {};
    let bytes = 0;
    for (const { path, entries } of this.walk((dir) => dir.current)) {
      if (entries.size === 0 && path !== "/") expected[path] = null;
      for (const [name, n] of entries) {
        if (n.kind === "file") {
          expected[childPath(path, name)] = decoder.decode(n.content);
          bytes += n.content.length;
        }
      }
    }
    const actual: Record<string, string | null> = {};
    const volume = this.mirror();
    const json = volume.toJSON();
    for (const p of Object.keys(json)) actual[p] = json[p] === null ? null : decoder.decode(volume.readFileSync(p) as Uint8Array);
    const e = JSON.stringify(sortedRecord(expected));
    const a = JSON.stringify(sortedRecord(actual));
    assert(e === a, `disk model and memfs disagree: model ${e}, memfs ${a}`);
    assert(bytes === this.currentBytes, `disk byte count ${this.currentBytes} != ${bytes} in the model`);
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data !== "string") return new Uint8Array(data);
  // Buffer.from copies a short string into Node's shared 8 KiB pool: far cheaper than
  // TextEncoder.encode's own ArrayBuffer per write (most writes are a few dozen bytes). Wrapped
  // as a plain Uint8Array view, so slice() copies as everywhere else (Buffer's slice would share).
  const b = Buffer.from(data, "utf8");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** What errors and traces name an operation by: its path, or "from -> to" for a rename. */
function opLabel(op: DiskOp, path: string, to: string): string {
  return op === "rename" ? `${path} -> ${to}` : path;
}

const childPath = (dir: string, name: string): string => (dir === "/" ? `/${name}` : `${dir}/${name}`);

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function sortedRecord<T>(r: Record<string, T>): Array<[string, T]> {
  return Object.keys(r)
    .sort()
    .map((k) => [k, r[k] as T]);
}
