import { describe, expect, test } from "vitest";
import type { DiskOptions, SimDisk } from "../sim/disk.ts";
import type { SimNode } from "../sim/scheduler.ts";
import { Simulation } from "../sim/simulation.ts";
import { digest } from "../sim/trace.ts";
import type { RpcCallback, RpcError } from "./rpc.ts";
import { CHECKPOINT_ROOT, StorageClient, StorageServer, chkDir, sealed, unseal } from "./storage.ts";

type World = {
  sim: Simulation;
  disk: SimDisk;
  storageNode: SimNode;
  tm: SimNode;
  server: StorageServer;
  client: StorageClient;
};

/** Network latency exactly 1 ms each way (so the server replied 1 ms before the client hears it), break notices after 10 ms. */
function world(seed = 1, disk: Partial<DiskOptions> = {}): World {
  const sim = new Simulation({
    seed,
    scheduler: { maxEvents: 200_000, maxTimeMs: 1_000_000 },
    network: { latency: { kind: "constant", ms: 1 }, connectionBreakDelayMs: 10 },
  });
  const storageNode = sim.addNode("storage", { disk });
  const tm = sim.addNode("tm-0");
  const server = new StorageServer(storageNode, sim.disk("storage"), sim.scheduler);
  const client = new StorageClient(sim.network, sim.scheduler, tm, server);
  return { sim, disk: sim.disk("storage"), storageNode, tm, server, client };
}

type Reply<T> = { readonly err: RpcError | null; readonly result: T | undefined; readonly atMs: number };

/** Issue one request and run the simulation until its callback has run. */
function settle<T>(w: World, start: (cb: RpcCallback<T>) => void): Reply<T> {
  const box: Array<Reply<T>> = [];
  start((err, result) => box.push({ err, result, atMs: w.sim.now }));
  w.sim.scheduler.run({ until: () => box.length > 0 });
  const r = box[0];
  if (r === undefined) throw new Error("the request never completed");
  return r;
}

/** The result, or the error code prefixed with "!". */
const outcome = <T>(r: Reply<T>): T | string => (r.err === null ? (r.result as T) : `!${r.err.code}`);

const ok = <T>(r: Reply<T>): T => {
  expect(r.err).toBeNull();
  return r.result as T;
};

const statePath = (id: number, name: string): string => `${chkDir(id)}/${name}`;
const metaPath = (id: number): string => `${chkDir(id)}/_metadata`;

function crashAndRestart(w: World): void {
  w.sim.crash("storage");
  w.sim.scheduler.run();
  w.sim.restart("storage");
}

/** Run `op` in a fresh world of `seed` and return when the client heard its reply. */
function replyTime(seed: number, setup: (w: World) => void, op: (w: World, cb: () => void) => void): number {
  const w = world(seed);
  setup(w);
  return settle<void>(w, (cb) => op(w, () => cb(null))).atMs;
}

/**
 * For each crash time from now to 1 ms past the reply, in `stepMs` steps: a fresh world, `setup`,
 * `op` with the storage node crashing at that time, a restart, then `check(world, crashedAfterReply)`.
 * (The first crash of a world always draws the same post-crash outcome for a seed, so sweeps vary
 * the seed too.)
 */
function crashSweep(
  seed: number,
  setup: (w: World) => void,
  op: (w: World, cb: () => void) => void,
  check: (w: World, crashedAfterServerReplied: boolean) => void,
  stepMs = 0.1,
): void {
  const start = (() => {
    const w = world(seed);
    setup(w);
    return w.sim.now;
  })();
  const end = replyTime(seed, setup, op);
  const steps = Math.ceil((end - start + 1) / stepMs);
  expect(steps).toBeLessThan(1000);
  for (let i = 0; i <= steps; i++) {
    const w = world(seed);
    setup(w);
    const crashAt = w.sim.now + i * stepMs;
    op(w, () => {});
    w.sim.scheduler.at(crashAt, () => w.sim.crash("storage"));
    w.sim.scheduler.run();
    w.sim.restart("storage");
    // The server replied one network latency (1 ms) before the client heard it.
    check(w, crashAt > end - 1);
  }
}

describe("requests and responses", () => {
  test("writeState replies with the state's path and read returns the data", () => {
    const w = world();
    const path = ok(settle<string>(w, (cb) => w.client.writeState(3, "map-0", "hello state", cb)));
    expect(path).toBe(statePath(3, "map-0"));
    expect(ok(settle<string>(w, (cb) => w.client.read(path, cb)))).toBe("hello state");
    expect(unseal(new TextDecoder().decode(w.disk.readFileSync(path)))).toBe("hello state");
  });

  test("reading a file that does not exist replies ENOENT", () => {
    const w = world();
    expect(outcome(settle<string>(w, (cb) => w.client.read(metaPath(1), cb)))).toBe("!ENOENT");
  });

  test("writeMetadata makes the checkpoint's _metadata readable", () => {
    const w = world();
    ok(settle<void>(w, (cb) => w.client.writeMetadata(4, '{"id":4}', cb)));
    expect(ok(settle<string>(w, (cb) => w.client.read(metaPath(4), cb)))).toBe('{"id":4}');
    expect(w.disk.exists(`${metaPath(4)}.tmp`)).toBe(false);
  });

  test("concurrent requests from two clients are all answered", () => {
    const w = world();
    const tm1 = w.sim.addNode("tm-1");
    const other = new StorageClient(w.sim.network, w.sim.scheduler, tm1, w.server);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      w.client.writeState(1, `a-${i}`, `a${i}`, (err) => got.push(err === null ? `a-${i}` : err.code));
      other.writeState(1, `b-${i}`, `b${i}`, (err) => got.push(err === null ? `b-${i}` : err.code));
    }
    w.sim.scheduler.run();
    expect([...got].sort()).toEqual(["a-0", "a-1", "a-2", "a-3", "a-4", "b-0", "b-1", "b-2", "b-3", "b-4"]);
    expect(w.disk.readdirSync(chkDir(1))).toEqual(["a-0", "a-1", "a-2", "a-3", "a-4", "b-0", "b-1", "b-2", "b-3", "b-4"]);
  });
});

describe("broken connections", () => {
  test("a crash of the storage node fails an outstanding request with ECONNRESET, and the first call after its restart reconnects", () => {
    const w = world(1, { slowFactor: 50 });
    const first = settle<string>(w, (cb) => {
      w.client.writeState(1, "map-0", "x", cb);
      w.sim.scheduler.at(5, () => w.sim.crash("storage"));
    });
    expect(outcome(first)).toBe("!ECONNRESET");
    expect(first.atMs).toBe(15);
    expect(outcome(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toBe("!ECONNREFUSED");
    w.sim.restart("storage");
    w.disk.clearFaults();
    expect(ok(settle<string>(w, (cb) => w.client.writeState(1, "map-0", "x", cb)))).toBe(statePath(1, "map-0"));
  });

  test("a partition fails an outstanding request with ECONNRESET, calls across it fail with ETIMEDOUT, and after the heal calls succeed", () => {
    const w = world(1, { slowFactor: 50 });
    const first = settle<string>(w, (cb) => {
      w.client.writeState(1, "map-0", "x", cb);
      w.sim.scheduler.at(5, () => w.sim.network.partition(["tm-0"], ["storage"]));
    });
    expect(outcome(first)).toBe("!ECONNRESET");
    expect(outcome(settle<string>(w, (cb) => w.client.read(statePath(1, "map-0"), cb)))).toBe("!ETIMEDOUT");
    w.sim.network.heal();
    w.disk.clearFaults();
    w.sim.scheduler.run();
    // The write the partition cut off still completed on the storage node.
    expect(ok(settle<string>(w, (cb) => w.client.read(statePath(1, "map-0"), cb)))).toBe("x");
  });
});

describe("durability and atomicity across storage crashes", () => {
  test("writeState is durable once it replied: a crash right after the reply keeps the state", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const w = world(seed);
      ok(
        settle<string>(w, (cb) =>
          w.client.writeState(9, "map-1", `state of seed ${seed}`, (err, path) => {
            // The server replied 1 ms ago and has done nothing since.
            w.sim.crash("storage");
            cb(err, path);
          }),
        ),
      );
      crashAndRestart(w);
      expect(ok(settle<string>(w, (cb) => w.client.read(statePath(9, "map-1"), cb)))).toBe(`state of seed ${seed}`);
    }
  });

  test("writeMetadata is atomic: a crash at any time during it leaves no _metadata or the whole verified one", () => {
    const data = JSON.stringify({ id: 7, states: { "map-0": statePath(7, "map-0"), "map-1": statePath(7, "map-1") } });
    const seen = new Set<string>();
    for (const seed of [1, 2, 3]) {
      crashSweep(
        seed,
        () => {},
        (w, cb) => w.client.writeMetadata(7, data, () => cb()),
        (w, after) => {
          const got = outcome(settle<string>(w, (cb) => w.client.read(metaPath(7), cb)));
          seen.add(got === data ? "full" : String(got));
          if (after) expect(got).toBe(data);
          else expect([data, "!ENOENT"]).toContain(got);
          if (w.disk.exists(metaPath(7))) expect(new TextDecoder().decode(w.disk.readFileSync(metaPath(7)))).toBe(sealed(data));
        },
      );
    }
    expect([...seen].sort()).toEqual(["!ENOENT", "full"]);
  });

  test("a crash during writeState leaves the state missing, detectably torn, or whole, and whole once it replied", () => {
    const data = "x".repeat(200);
    const seen = new Set<string>();
    for (let seed = 1; seed <= 24; seed++) {
      crashSweep(
        seed,
        () => {},
        (w, cb) => w.client.writeState(2, "sink-0", data, () => cb()),
        (w, after) => {
          const got = outcome(settle<string>(w, (cb) => w.client.read(statePath(2, "sink-0"), cb)));
          seen.add(got === data ? "full" : String(got));
          if (after) expect(got).toBe(data);
          else expect([data, "!ENOENT", "!ECORRUPT"]).toContain(got);
        },
        0.25,
      );
    }
    expect([...seen].sort()).toEqual(["!ECORRUPT", "!ENOENT", "full"]);
  });

  test("overwriting the counter is atomic: a crash during writeCounter leaves the old or the new value", () => {
    const seen = new Set<number>();
    for (const seed of [1, 2, 3]) {
      crashSweep(
        seed,
        (w) => ok(settle<void>(w, (cb) => w.client.writeCounter(3, cb))),
        (w, cb) => w.client.writeCounter(8, () => cb()),
        (w, after) => {
          const got = ok(settle<number>(w, (cb) => w.client.readCounter(cb)));
          seen.add(got);
          expect(after ? [8] : [3, 8]).toContain(got);
        },
      );
    }
    expect([...seen].sort()).toEqual([3, 8]);
  });

  test("a crash during deleteCheckpoint never leaves a _metadata that verifies next to missing state", () => {
    const setup = (w: World): void => {
      for (const name of ["map-0", "map-1", "sink-0"]) ok(settle<string>(w, (cb) => w.client.writeState(5, name, `${name} state`, cb)));
      ok(settle<void>(w, (cb) => w.client.writeMetadata(5, "meta of 5", cb)));
    };
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      crashSweep(
        seed,
        setup,
        (w, cb) => w.client.deleteCheckpoint(5, () => cb()),
        (w, after) => {
          const ids = ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)));
          if (after) expect(ids).toEqual([]);
          const meta = outcome(settle<string>(w, (cb) => w.client.read(metaPath(5), cb)));
          seen.add(String(meta));
          expect(["meta of 5", "!ENOENT"]).toContain(meta);
          if (meta !== "meta of 5") return;
          for (const name of ["map-0", "map-1", "sink-0"]) {
            expect(ok(settle<string>(w, (cb) => w.client.read(statePath(5, name), cb)))).toBe(`${name} state`);
          }
        },
      );
    }
    expect([...seen].sort()).toEqual(["!ENOENT", "meta of 5"]);
  });
});

describe("corruption", () => {
  test("read detects a torn state file (every truncation) with ECORRUPT", () => {
    const w = world();
    const path = ok(settle<string>(w, (cb) => w.client.writeState(1, "map-0", "some operator state", cb)));
    const full = sealed("some operator state");
    for (let cut = 0; cut < full.length; cut += 3) {
      const err = settle<void>(w, (cb) => w.disk.writeFile(path, full.slice(0, cut), (e) => cb(e)));
      expect(err.err).toBeNull();
      const got = settle<string>(w, (cb) => w.client.read(path, cb));
      expect(got.err?.code).toBe("ECORRUPT");
      expect(got.err?.message).toContain(path);
    }
  });

  test("read detects changed content under an unchanged checksum with ECORRUPT", () => {
    const w = world();
    const path = ok(settle<string>(w, (cb) => w.client.writeState(1, "map-0", "count=41", cb)));
    const tampered = sealed("count=41").replace("count=41", "count=42");
    settle<void>(w, (cb) => w.disk.writeFile(path, tampered, (e) => cb(e)));
    expect(outcome(settle<string>(w, (cb) => w.client.read(path, cb)))).toBe("!ECORRUPT");
    expect(unseal(tampered)).toBeUndefined();
    expect(unseal(sealed("count=41"))).toBe("count=41");
  });
});

describe("checkpoint directories", () => {
  test("listCheckpoints is empty on a fresh disk", () => {
    const w = world();
    expect(ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toEqual([]);
  });

  test("listCheckpoints sorts ids numerically and skips other entries", () => {
    const w = world();
    for (const id of [10, 9, 100, 2]) ok(settle<string>(w, (cb) => w.client.writeState(id, "map-0", "s", cb)));
    ok(settle<void>(w, (cb) => w.client.writeCounter(101, cb)));
    settle<void>(w, (cb) => w.disk.mkdir(`${CHECKPOINT_ROOT}/chk-x`, (e) => cb(e)));
    expect(w.disk.readdirSync(CHECKPOINT_ROOT)).toEqual(["_counter", "chk-10", "chk-100", "chk-2", "chk-9", "chk-x"]);
    expect(ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toEqual([2, 9, 10, 100]);
  });

  test("deleteCheckpoint removes the directory with its files and leaves the others", () => {
    const w = world();
    for (const name of ["map-0", "map-1"]) ok(settle<string>(w, (cb) => w.client.writeState(5, name, name, cb)));
    ok(settle<void>(w, (cb) => w.client.writeMetadata(5, "m5", cb)));
    ok(settle<string>(w, (cb) => w.client.writeState(6, "map-0", "six", cb)));
    ok(settle<void>(w, (cb) => w.client.deleteCheckpoint(5, cb)));
    expect(w.disk.exists(chkDir(5))).toBe(false);
    expect(ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toEqual([6]);
    expect(outcome(settle<string>(w, (cb) => w.client.read(statePath(5, "map-0"), cb)))).toBe("!ENOENT");
    expect(ok(settle<string>(w, (cb) => w.client.read(statePath(6, "map-0"), cb)))).toBe("six");
    // Deleting what is gone succeeds; the deletion survives a crash.
    ok(settle<void>(w, (cb) => w.client.deleteCheckpoint(5, cb)));
    crashAndRestart(w);
    expect(ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toEqual([6]);
  });

  test("deleteCheckpoint reports a failing disk instead of claiming the checkpoint is gone", () => {
    const w = world();
    ok(settle<string>(w, (cb) => w.client.writeState(5, "map-0", "s", cb)));
    w.disk.setFaults({ readFailureProbability: 1 });
    expect(outcome(settle<void>(w, (cb) => w.client.deleteCheckpoint(5, cb)))).toBe("!EIO");
    w.disk.clearFaults();
    expect(ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toEqual([5]);
  });
});

describe("the checkpoint id counter", () => {
  test("readCounter is 0 before any write, then returns what writeCounter wrote", () => {
    const w = world();
    expect(ok(settle<number>(w, (cb) => w.client.readCounter(cb)))).toBe(0);
    ok(settle<void>(w, (cb) => w.client.writeCounter(42, cb)));
    expect(ok(settle<number>(w, (cb) => w.client.readCounter(cb)))).toBe(42);
    ok(settle<void>(w, (cb) => w.client.writeCounter(43, cb)));
    expect(ok(settle<number>(w, (cb) => w.client.readCounter(cb)))).toBe(43);
  });

  test("the counter survives a crash right after writeCounter replied", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const w = world(seed);
      ok(
        settle<void>(w, (cb) =>
          w.client.writeCounter(1000 + seed, (err) => {
            w.sim.crash("storage");
            cb(err);
          }),
        ),
      );
      crashAndRestart(w);
      expect(ok(settle<number>(w, (cb) => w.client.readCounter(cb)))).toBe(1000 + seed);
    }
  });
});

describe("disk faults", () => {
  test("with every disk write failing, writeState and writeMetadata reply EIO and reads still work", () => {
    const w = world();
    ok(settle<string>(w, (cb) => w.client.writeState(1, "map-0", "before", cb)));
    w.disk.setFaults({ writeFailureProbability: 1 });
    const failed = settle<string>(w, (cb) => w.client.writeState(2, "map-0", "during", cb));
    expect(failed.err?.code).toBe("EIO");
    expect(failed.err?.message).toContain("EIO");
    expect(outcome(settle<void>(w, (cb) => w.client.writeMetadata(1, "m", cb)))).toBe("!EIO");
    expect(outcome(settle<void>(w, (cb) => w.client.writeCounter(9, cb)))).toBe("!EIO");
    expect(ok(settle<string>(w, (cb) => w.client.read(statePath(1, "map-0"), cb)))).toBe("before");
    expect(ok(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb)))).toEqual([1]);
    w.disk.clearFaults();
    expect(ok(settle<string>(w, (cb) => w.client.writeState(2, "map-0", "after", cb)))).toBe(statePath(2, "map-0"));
  });

  test("a failing fsync makes writeState reply EIO", () => {
    const w = world(1, { fsyncFailureProbability: 1 });
    expect(outcome(settle<string>(w, (cb) => w.client.writeState(1, "map-0", "s", cb)))).toBe("!EIO");
  });
});

describe("determinism", () => {
  /** Writes, a crash at a seed-dependent time, a restart and reads; returns the replies and the trace hash. */
  function run(seed: number): { log: unknown[]; hash: string } {
    const w = world(seed);
    const log: unknown[] = [];
    for (let id = 1; id <= 3; id++) {
      for (const name of ["map-0", "map-1"]) log.push(outcome(settle<string>(w, (cb) => w.client.writeState(id, name, `${id}/${name}`, cb))));
      log.push(outcome(settle<void>(w, (cb) => w.client.writeMetadata(id, `meta ${id}`, cb))));
    }
    w.client.writeState(4, "map-0", "in flight", (err) => log.push(["in flight", err?.code ?? "ok"]));
    w.client.writeMetadata(4, "meta 4", (err) => log.push(["meta 4", err?.code ?? "ok"]));
    w.sim.scheduler.run({ untilTimeMs: w.sim.now + 4 });
    crashAndRestart(w);
    log.push(outcome(settle<number[]>(w, (cb) => w.client.listCheckpoints(cb))));
    for (const path of [statePath(4, "map-0"), metaPath(4), metaPath(3)]) log.push(outcome(settle<string>(w, (cb) => w.client.read(path, cb))));
    log.push(outcome(settle<void>(w, (cb) => w.client.deleteCheckpoint(1, cb))));
    log.push(w.sim.now);
    return { log, hash: w.sim.trace.hash() };
  }

  test("the same seed gives the same replies, times and trace hash", () => {
    const a = run(7);
    const b = run(7);
    expect(b.log).toEqual(a.log);
    expect(b.hash).toBe(a.hash);
    expect(run(8).hash).not.toBe(a.hash);
  });
});

describe("sealed", () => {
  test("is the JSON of the checksum and the data, for data that needs escaping too", () => {
    for (const data of ["", "plain", '{"a":"q\\"uote"}', "line\nbreak\u0001", "\ud800 lone", "é ✓ 😀"]) {
      expect(sealed(data)).toBe(JSON.stringify({ checksum: digest(data), data }));
      expect(unseal(sealed(data))).toBe(data);
    }
  });
});
