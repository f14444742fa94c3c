/**
 * Checkpoint storage: a storage node with a simulated disk, reached over the network.
 *
 * Layout on the storage disk:
 *   /checkpoints/chk-<id>/<vertex>-<subtask>   a subtask's state (fsynced, directory synced)
 *   /checkpoints/chk-<id>/_metadata            written last and atomically (tmp, fsync, rename, dir sync)
 *   /checkpoints/_counter                      the checkpoint id lease (as Flink's HA counter)
 * A checkpoint counts as completed only when its _metadata exists and its checksum verifies.
 * Every reply comes after the change is durable: a created directory's entry is made durable in its
 * parent (fsyncDir) before anything is written into it.
 */
import type { DiskError, SimDisk } from "../sim/disk.ts";
import type { Network } from "../sim/network.ts";
import type { Scheduler, SimNode } from "../sim/scheduler.ts";
import { digest, Fnv64 } from "../sim/trace.ts";
import { RpcClient, RpcServer, type RpcCallback, type RpcError } from "./rpc.ts";

export const CHECKPOINT_ROOT = "/checkpoints";
export const chkDir = (id: number): string => `${CHECKPOINT_ROOT}/chk-${id}`;

type StorageRequest =
  | { op: "writeState"; id: number; name: string; data: string }
  | { op: "writeMetadata"; id: number; data: string }
  | { op: "read"; path: string }
  | { op: "listCheckpoints" }
  | { op: "deleteCheckpoint"; id: number }
  | { op: "writeCounter"; value: number }
  | { op: "readCounter" };

/**
 * One disk operation of a request, as data: a request's steps are run by one `DiskSequence` with
 * one continuation, instead of a closure per step and per callback.
 */
type Step =
  | { readonly op: "mkdir" | "fsync" | "fsyncDir" | "unlink" | "rmdir"; readonly path: string }
  | { readonly op: "writeFile"; readonly path: string; readonly data: string }
  | { readonly op: "rename"; readonly path: string; readonly to: string }
  /** fsyncDir("/") unless the entry of CHECKPOINT_ROOT is already durable (decided when the step runs). */
  | { readonly op: "syncRoot" };

const SYNC_ROOT: Step = { op: "syncRoot" };
const SYNC_CHECKPOINT_ROOT: Step = { op: "fsyncDir", path: CHECKPOINT_ROOT };

/** A disk callback that resumes `s` (made by a function: see pumpOf in src/sim/network.ts). */
function resumeOf(s: DiskSequence): (e: DiskError | null) => void {
  return (e) => s.resume(e);
}

/**
 * Runs disk steps in order, each issued from the previous one's callback, stopping at the first
 * error; then `reply(err, result)` (the result only matters on success).
 */
class DiskSequence {
  private i = 0;
  private readonly next: (e: DiskError | null) => void;
  constructor(
    private readonly server: StorageServer,
    private readonly disk: SimDisk,
    private readonly steps: readonly Step[],
    private readonly reply: (err: RpcError | null, result?: unknown) => void,
    private readonly result: unknown,
  ) {
    this.next = resumeOf(this);
  }

  /** Issue the next step (or reply): call once to start, then from each step's callback. */
  resume(e: DiskError | null): void {
    if (e !== null) return this.reply(diskErr(e), this.result);
    if (this.i > 0 && this.steps[this.i - 1] === SYNC_ROOT) this.server.rootDurable = true;
    const d = this.disk;
    for (; this.i < this.steps.length; ) {
      const step = this.steps[this.i++] as Step;
      switch (step.op) {
        case "syncRoot":
          if (this.server.rootDurable) continue;
          return d.fsyncDir("/", this.next);
        case "mkdir":
          return d.mkdir(step.path, this.next);
        case "writeFile":
          return d.writeFile(step.path, step.data, this.next);
        case "fsync":
          return d.fsync(step.path, this.next);
        case "fsyncDir":
          return d.fsyncDir(step.path, this.next);
        case "rename":
          return d.rename(step.path, step.to, this.next);
        case "unlink":
          return d.unlink(step.path, this.next);
        case "rmdir":
          return d.rmdir(step.path, this.next);
      }
    }
    this.reply(null, this.result);
  }
}

function diskErr(e: { code: string; message: string } | null): RpcError | null {
  return e === null ? null : { code: e.code, message: e.message };
}

const decoder = new TextDecoder();

/** Wraps content with its checksum so a torn file is detected on read. */
export function sealed(data: string): string {
  // Same text as JSON.stringify({ checksum: digest(data), data }), escaping `data` once: the
  // digest of a string is the hash of its JSON form.
  const escaped = JSON.stringify(data);
  return `{"checksum":"${new Fnv64().update(escaped).hex()}","data":${escaped}}`;
}
export function unseal(text: string): string | undefined {
  try {
    const o = JSON.parse(text) as { checksum?: unknown; data?: unknown };
    if (typeof o.data !== "string" || o.checksum !== digest(o.data)) return undefined;
    return o.data;
  } catch {
    return undefined;
  }
}

export class StorageServer {
  readonly rpc: RpcServer;
  /**
   * The entry of CHECKPOINT_ROOT in "/" is durable (nothing removes the root, so this stays true
   * across crashes). @internal set by DiskSequence.
   */
  rootDurable = false;

  constructor(
    readonly node: SimNode,
    private readonly disk: SimDisk,
    private readonly scheduler: Scheduler,
  ) {
    this.rpc = new RpcServer(node, (body, reply) => this.handle(body as StorageRequest, reply));
  }

  /**
   * mkdir -p `dir` (CHECKPOINT_ROOT or a directory right under it) and make the new entries durable:
   * without the parents' fsyncDir a crash may drop the directory, and every file in it, after the reply.
   */
  private ensureDir(dir: string): Step[] {
    const steps: Step[] = [{ op: "mkdir", path: dir }, SYNC_ROOT];
    if (dir !== CHECKPOINT_ROOT) steps.push(SYNC_CHECKPOINT_ROOT);
    return steps;
  }

  private atomicWrite(path: string, dir: string, data: string): Step[] {
    const tmp = `${path}.tmp`;
    const steps = this.ensureDir(dir);
    steps.push(
      { op: "writeFile", path: tmp, data },
      { op: "fsync", path: tmp },
      { op: "rename", path: tmp, to: path },
      { op: "fsyncDir", path: dir },
    );
    return steps;
  }

  /** Run `steps`, then `reply(err, result)`. */
  private run(steps: readonly Step[], reply: (err: RpcError | null, result?: unknown) => void, result?: unknown): void {
    new DiskSequence(this, this.disk, steps, reply, result).resume(null);
  }

  private handle(req: StorageRequest, reply: (err: RpcError | null, result?: unknown) => void): void {
    const d = this.disk;
    switch (req.op) {
      case "writeState": {
        const dir = chkDir(req.id);
        const path = `${dir}/${req.name}`;
        const steps = this.ensureDir(dir);
        steps.push(
          { op: "writeFile", path, data: sealed(req.data) },
          { op: "fsync", path },
          { op: "fsyncDir", path: dir },
        );
        this.run(steps, reply, path);
        return;
      }
      case "writeMetadata": {
        const dir = chkDir(req.id);
        this.run(this.atomicWrite(`${dir}/_metadata`, dir, sealed(req.data)), reply);
        return;
      }
      case "writeCounter":
        this.run(this.atomicWrite(`${CHECKPOINT_ROOT}/_counter`, CHECKPOINT_ROOT, String(req.value)), reply);
        return;
      case "readCounter":
        d.readFile(`${CHECKPOINT_ROOT}/_counter`, (e, data) => {
          if (e) return reply(e.code === "ENOENT" ? null : diskErr(e), 0);
          const v = Number(decoder.decode(data));
          reply(null, Number.isFinite(v) ? v : 0);
        });
        return;
      case "read":
        d.readFile(req.path, (e, data) => {
          if (e) return reply(diskErr(e));
          const text = unseal(decoder.decode(data));
          if (text === undefined) return reply({ code: "ECORRUPT", message: `checksum mismatch in ${req.path}` });
          reply(null, text);
        });
        return;
      case "listCheckpoints":
        // A read: no mkdir here, so a disk failing its writes still lists.
        d.readdir(CHECKPOINT_ROOT, (e, names) => {
          if (e) return e.code === "ENOENT" ? reply(null, []) : reply(diskErr(e));
          const ids = (names ?? [])
            .filter((n) => /^chk-\d+$/.test(n))
            .map((n) => Number(n.slice(4)))
            .sort((a, b) => a - b);
          reply(null, ids);
        });
        return;
      case "deleteCheckpoint": {
        const dir = chkDir(req.id);
        d.readdir(dir, (e, names) => {
          if (e) return reply(e.code === "ENOENT" ? null : diskErr(e)); // ENOENT: already gone
          const files = names ?? [];
          // _metadata goes first and durably: a crash in the middle must not leave a _metadata
          // that verifies next to state files already gone.
          const steps: Step[] = files.includes("_metadata")
            ? [{ op: "unlink", path: `${dir}/_metadata` }, { op: "fsyncDir", path: dir }]
            : [];
          for (const f of files) if (f !== "_metadata") steps.push({ op: "unlink", path: `${dir}/${f}` });
          steps.push({ op: "rmdir", path: dir }, SYNC_CHECKPOINT_ROOT);
          this.run(steps, reply);
        });
        return;
      }
    }
  }
}

/** A node's client of the checkpoint storage. */
export class StorageClient {
  private readonly rpc: RpcClient;
  constructor(network: Network, scheduler: Scheduler, from: SimNode, server: StorageServer) {
    this.rpc = new RpcClient(network, scheduler, from, server.rpc);
  }
  writeState(id: number, name: string, data: string, cb: RpcCallback<string>): void {
    this.rpc.call({ op: "writeState", id, name, data }, cb);
  }
  writeMetadata(id: number, data: string, cb: RpcCallback<void>): void {
    this.rpc.call({ op: "writeMetadata", id, data }, cb);
  }
  read(path: string, cb: RpcCallback<string>): void {
    this.rpc.call({ op: "read", path }, cb);
  }
  listCheckpoints(cb: RpcCallback<number[]>): void {
    this.rpc.call({ op: "listCheckpoints" }, cb);
  }
  deleteCheckpoint(id: number, cb: RpcCallback<void>): void {
    this.rpc.call({ op: "deleteCheckpoint", id }, cb);
  }
  writeCounter(value: number, cb: RpcCallback<void>): void {
    this.rpc.call({ op: "writeCounter", value }, cb);
  }
  readCounter(cb: RpcCallback<number>): void {
    this.rpc.call({ op: "readCounter" }, cb);
  }
  close(): void {
    this.rpc.close();
  }
}
