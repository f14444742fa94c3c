/**
 * The simulation context: one seed, and from it the scheduler, the network, the disks, the trace
 * and the fault points. Everything in the simulated world reaches time, randomness and I/O only
 * through this object.
 */
import { SimDisk, type DiskOptions } from "./disk.ts";
import { FaultPoints } from "./faultpoints.ts";
import { Network, type NetworkOptions } from "./network.ts";
import { Random } from "./random.ts";
import { Scheduler, type SchedulerOptions, type SimNode } from "./scheduler.ts";
import { Trace, type TraceOptions } from "./trace.ts";

export type SimulationOptions = {
  readonly seed: number;
  readonly scheduler?: Partial<SchedulerOptions>;
  readonly network?: Partial<NetworkOptions>;
  readonly trace?: Partial<TraceOptions>;
  readonly buggify?: boolean;
};

export class Simulation {
  readonly seed: number;
  readonly random: Random;
  readonly scheduler: Scheduler;
  readonly trace: Trace;
  readonly network: Network;
  readonly faultPoints: FaultPoints;
  private readonly disks = new Map<string, SimDisk>();

  constructor(options: SimulationOptions) {
    this.seed = options.seed;
    this.random = Random.fromSeed(options.seed);
    this.scheduler = new Scheduler(options.scheduler);
    this.trace = new Trace(this.scheduler, options.trace);
    this.network = new Network(this.scheduler, this.random.fork("network"), this.trace, options.network);
    this.faultPoints = new FaultPoints(this.random.fork("buggify"), { enabled: options.buggify ?? false });
  }

  get now(): number {
    return this.scheduler.now;
  }

  addNode(id: string, opts: { disk?: Partial<DiskOptions> } = {}): SimNode {
    const node = this.scheduler.addNode(id);
    if (opts.disk !== undefined) {
      this.disks.set(id, new SimDisk(node, this.scheduler, this.random.fork(`disk/${id}`), this.trace, opts.disk));
    }
    return node;
  }

  disk(id: string): SimDisk {
    const d = this.disks.get(id);
    if (d === undefined) throw new Error(`node ${id} has no disk`);
    return d;
  }

  crash(id: string): void {
    if (!this.scheduler.node(id).alive) return;
    this.trace.emit(id, "crash");
    this.scheduler.crash(id);
  }

  restart(id: string): void {
    if (this.scheduler.node(id).alive) return;
    this.trace.emit(id, "restart");
    this.scheduler.restart(id);
  }
}
