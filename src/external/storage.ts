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
import type { SimDisk } from "../sim/disk.ts";
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

type Step = (next: (err: RpcError | null) => void) => void;

/** Run disk steps in order, stopping at the first error (each step calls its callback once). */
function sequence(steps: Step[], done: (err: RpcError | null) => void): void {
  let i = 0;
  // One continuation for the whole sequence, not one per step.
  const next = (err: RpcError | null): void => {
    if (err) return done(err);
    if (i >= steps.length) return done(null);
    (steps[i++] as Step)(next);
  };
  next(null);
}

const diskErr = (e: { code: string; message: string } | null): RpcError | null =>
  e === null ? null : { code: e.code, message: e.message };

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
  /** The entry of CHECKPOINT_ROOT in "/" is durable (nothing removes the root, so this stays true across crashes). */
  private rootDurable = false;

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
    const d = this.disk;
    const steps: Step[] = [];
    steps.push(
      (n) => d.mkdir(dir, (e) => n(diskErr(e))),
      (n) => {
        if (this.rootDurable) return n(null);
        d.fsyncDir("/", (e) => {
          if (e === null) this.rootDurable = true;
          n(diskErr(e));
        });
      },
    );
    if (dir !== CHECKPOINT_ROOT) steps.push((n) => d.fsyncDir(CHECKPOINT_ROOT, (e) => n(diskErr(e))));
    return steps;
  }

  private atomicWrite(path: string, dir: string, data: string): Step[] {
    const d = this.disk;
    const tmp = `${path}.tmp`;
    const steps = this.ensureDir(dir);
    steps.push(
      (n) => d.writeFile(tmp, data, (e) => n(diskErr(e))),
      (n) => d.fsync(tmp, (e) => n(diskErr(e))),
      (n) => d.rename(tmp, path, (e) => n(diskErr(e))),
      (n) => d.fsyncDir(dir, (e) => n(diskErr(e))),
    );
    return steps;
  }

  private handle(req: StorageRequest, reply: (err: RpcError | null, result?: unknown) => void): void {
    const d = this.disk;
    switch (req.op) {
      case "writeState": {
        const dir = chkDir(req.id);
        const path = `${dir}/${req.name}`;
        sequence(
          [
            ...this.ensureDir(dir),
            (n) => d.writeFile(path, sealed(req.data), (e) => n(diskErr(e))),
            (n) => d.fsync(path, (e) => n(diskErr(e))),
            (n) => d.fsyncDir(dir, (e) => n(diskErr(e))),
          ],
          (err) => reply(err, path),
        );
        return;
      }
      case "writeMetadata": {
        const dir = chkDir(req.id);
        sequence(this.atomicWrite(`${dir}/_metadata`, dir, sealed(req.data)), (err) => reply(err));
        return;
      }
      case "writeCounter":
        sequence(this.atomicWrite(`${CHECKPOINT_ROOT}/_counter`, CHECKPOINT_ROOT, String(req.value)), (err) => reply(err));
        return;
      case "readCounter":
        d.readFile(`${CHECKPOINT_ROOT}/_counter`, (e, data) => {
          if (e) return reply(e.code === "ENOENT" ? null : diskErr(e), 0);
          const v = Number(new TextDecoder().decode(data));
          reply(null, Number.isFinite(v) ? v : 0);
        });
        return;
      case "read":
        d.readFile(req.path, (e, data) => {
          if (e) return reply(diskErr(e));
          const text = unseal(new TextDecoder().decode(data));
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
          const unlink = (f: string): Step => (n) => d.unlink(`${dir}/${f}`, (ue) => n(diskErr(ue)));
          // _metadata goes first and durably: a crash in the middle must not leave a _metadata
          // that verifies next to state files already gone.
          const meta: Step[] = files.includes("_metadata") ? [unlink("_metadata"), (n) => d.fsyncDir(dir, (se) => n(diskErr(se)))] : [];
          sequence(
            [
              ...meta,
              ...files.filter((f) => f !== "_metadata").map(unlink),
              (n) => d.rmdir(dir, (re) => n(diskErr(re))),
              (n) => d.fsyncDir(CHECKPOINT_ROOT, (se) => n(diskErr(se))),
            ],
            (err) => reply(err),
          );
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
