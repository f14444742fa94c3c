/**
 * A TaskManager: a node with slots that registers with the JobManager, answers its heartbeats,
 * deploys, starts and cancels subtasks, and relays checkpoint triggers, acknowledgements and
 * notifications. Losing the JobManager's heartbeats for longer than the timeout makes it cancel
 * its tasks (as a disconnected TaskManager does); a crash loses everything.
 */
import { BrokerClient } from "../../external/broker-client.ts";
import { StorageClient, type StorageServer } from "../../external/storage.ts";
import type { ConnectionHandlers, NetError } from "../../sim/network.ts";
import type { SimNode } from "../../sim/scheduler.ts";
import type { Simulation } from "../../sim/simulation.ts";
import type { JsonValue } from "../../sim/trace.ts";
import type { ClusterConfigData, JobConfigData } from "../config.ts";
import type { KeySelector } from "../plan/functions.ts";
import type { PlanNode } from "../plan/plan.ts";
import type { KeyedStateEntry } from "../result.ts";
import type { Registry } from "../plan/registry.ts";
import { brokerPort } from "../runtime/broker-port.ts";
import type { ChannelMessage } from "../runtime/channels.ts";
import { AtLeastOnceSink, SourceOperator, TwoPhaseCommitSink } from "../runtime/connectors.ts";
import type { ExecutionGraph} from "../runtime/graph.ts";
import { subtaskName, type SubtaskRef } from "../runtime/graph.ts";
import type { Operator } from "../runtime/operator.ts";
import { FilterOperator, FlatMapOperator, MapOperator, ProcessOperator, ReduceOperator, WindowOperator } from "../runtime/operators.ts";
import { Task } from "../runtime/task.ts";
import type { JmToTm, TaskDeployment, TmToJm } from "./messages.ts";

/**
 * The two ends of a data channel. Classes rather than objects of closures: a deployment makes
 * two per channel, and a class's methods are shared where closures would be made anew each time.
 */
class ProducerEnd implements ConnectionHandlers {
  constructor(
    private readonly producer: Task,
    private readonly output: number,
    private readonly channel: number,
    private readonly target: SubtaskRef,
  ) {}
  onMessage(p: unknown): void {
    this.producer.onCredit(this.output, this.channel, p as ChannelMessage);
  }
  onBreak(e: NetError): void {
    this.producer.fail(`channel to ${subtaskName(this.target)} broken: ${e.code}`);
  }
}

class ConsumerEnd implements ConnectionHandlers {
  constructor(
    private readonly consumer: Task,
    private readonly input: number,
    private readonly from: SubtaskRef,
  ) {}
  onMessage(p: unknown): void {
    this.consumer.onInputMessage(this.input, p as ChannelMessage);
  }
  onBreak(e: NetError): void {
    this.consumer.fail(`channel from ${subtaskName(this.from)} broken: ${e.code}`);
  }
}

/** The key selector on a keyed operator's input. */
function keySelectorOf(node: PlanNode, registry: Registry): KeySelector {
  const e = node.inputs[0];
  if (e?.key === undefined) throw new Error(`keyed operator ${node.id} has no key selector on its input`);
  return registry.resolve("key", e.key);
}

/** Live tasks by execution key, shared by the TaskManagers to wire channels (Flink's partition lookup). */
export class TaskDirectory {
  private readonly tasks = new Map<string, { task: Task; tm: string }>();
  static key(session: number, attempt: number, ref: SubtaskRef): string {
    return `${session}.${attempt}:${subtaskName(ref)}`;
  }
  set(key: string, task: Task, tm: string): void {
    this.tasks.set(key, { task, tm });
  }
  get(key: string): { task: Task; tm: string } | undefined {
    return this.tasks.get(key);
  }
  delete(key: string): void {
    this.tasks.delete(key);
  }
}

export type ClusterShared = {
  readonly sim: Simulation;
  readonly graph: ExecutionGraph;
  readonly registry: Registry;
  readonly job: JobConfigData;
  readonly cluster: ClusterConfigData;
  readonly directory: TaskDirectory;
  readonly storage: StorageServer;
  /** Per-vertex slowdown factors (fault injection). */
  readonly slowdown: Map<string, number>;
  /** RPC kinds currently dropped (fault injection). */
  readonly droppedRpcs: Map<string, number>;
  /** Keyed state of each task when it finished, by execution key (read by the harness at job end). */
  readonly finalStates: Map<string, readonly KeyedStateEntry[]>;
};

type Deployed = { key: string; task: Task; ref: SubtaskRef };

export class TaskManager {
  readonly node: SimNode;
  private session = -1;
  private registered = false;
  /** Registration cycles of this process: a new one after every loss of the JobManager. */
  private registrations = 0;
  private lastJmHeartbeat = 0;
  private tasks: Deployed[] = [];
  private attempt = -1;
  /** The attempt whose tasks were started (channels connected): a repeated "start" must not wire them twice. */
  private startedAttempt = -1;
  private storage: StorageClient | undefined;
  /** Failures not yet acknowledged by the JobManager (repeated in heartbeat replies). */
  private failures: Array<{ attempt: number; task: string; reason: string }> = [];
  /** Tasks of the current attempt whose data ended / that finished (repeated in heartbeat replies). */
  private ended = new Set<string>();
  private finishedTasks = new Set<string>();

  constructor(
    readonly id: string,
    private readonly c: ClusterShared,
  ) {
    this.node = c.sim.scheduler.node(id);
    this.node.onRestart(() => this.boot());
    this.node.onCrash(() => this.onCrash());
    this.boot();
  }

  private boot(): void {
    this.session = -1;
    this.registered = false;
    this.tasks = [];
    this.failures = [];
    this.storage = new StorageClient(this.c.sim.network, this.c.sim.scheduler, this.node, this.c.storage);
    this.c.sim.network.listen(this.id, "tm", (p) => this.onMessage(p as JmToTm));
    this.registerLoop();
    this.watchJm();
  }

  private onCrash(): void {
    for (const t of this.tasks) this.c.directory.delete(t.key);
    this.tasks = [];
  }

  private send(msg: TmToJm): void {
    const kind = msg.t === "ack" ? "acknowledgeCheckpoint" : msg.t === "hbr" ? "heartbeat" : undefined;
    if (kind !== undefined && (this.c.droppedRpcs.get(kind) ?? 0) > 0) return;
    this.c.sim.network.send(this.id, "jm", "jm", msg);
  }

  private registerLoop(): void {
    if (!this.node.alive) return;
    if (!this.registered) this.send({
        t: "register",
        tm: this.id,
        instance: this.node.incarnation,
        registration: this.registrations,
        slots: this.c.cluster.slotsPerTaskManager,
        sentAt: this.c.sim.now,
      });
    this.c.sim.scheduler.schedule(this.c.cluster.heartbeatIntervalMs, () => this.registerLoop(), this.node);
  }

  /** Disconnect from a JobManager that stopped sending heartbeats: cancel everything, re-register. */
  private watchJm(): void {
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.c.cluster;
    if (this.registered && this.c.sim.now - this.lastJmHeartbeat > heartbeatTimeoutMs) {
      this.c.sim.trace.emit(this.id, "jm-lost", { session: this.session });
      this.cancelAll();
      this.registered = false;
      this.registrations++;
    }
    this.c.sim.scheduler.schedule(heartbeatIntervalMs, () => this.watchJm(), this.node);
  }

  private cancelAll(): void {
    for (const t of this.tasks) {
      t.task.cancel();
      this.c.directory.delete(t.key);
    }
    this.tasks = [];
  }

  private onMessage(m: JmToTm): void {
    if (m.session < this.session) return; // a message from a deposed JobManager
    if (m.session > this.session) {
      // A new JobManager leader: drop everything of the old one.
      this.cancelAll();
      this.session = m.session;
      this.failures = [];
    }
    switch (m.t) {
      case "registered":
        // An answer to a registration sent more than a heartbeat timeout ago is stale: the
        // JobManager may have declared this TaskManager lost since and failed over, and what it
        // sent before (a deployment of the attempt it gave up) may be queued right behind it.
        // Taking it deployed a dead attempt whose sinks fenced the live attempt's transactions
        // (scenarios/regressions/stale-registration-deploys-dead-attempt.json), as Flink's
        // retrying registration ignores an answer to an attempt that timed out.
        if (this.c.sim.now - m.sentAt > this.c.cluster.heartbeatTimeoutMs) return;
        this.registered = true;
        this.lastJmHeartbeat = this.c.sim.now;
        return;
      case "hb":
        if (!this.registered) return;
        this.lastJmHeartbeat = this.c.sim.now;
        this.send({
          t: "hbr",
          tm: this.id,
          session: this.session,
          failures: this.failures,
          attempt: this.attempt,
          round: m.round,
          started: this.startedAttempt === this.attempt,
          ended: [...this.ended].sort(),
          finished: [...this.finishedTasks].sort(),
        });
        return;
      case "deploy":
        if (!this.registered) return;
        this.deploy(m.attempt, m.tasks);
        return;
      case "start":
        // The JobManager repeats "start" while heartbeat replies say the attempt is not started.
        if (m.attempt === this.attempt && this.startedAttempt !== m.attempt) {
          this.startedAttempt = m.attempt;
          this.startAll();
        }
        return;
      case "cancel":
        if (m.attempt >= this.attempt) {
          this.cancelAll();
          this.failures = this.failures.filter((f) => f.attempt > m.attempt);
        }
        // Confirm (also when there was nothing to cancel): the JobManager restarts only after this.
        this.send({ t: "cancelled", tm: this.id, session: this.session, attempt: m.attempt });
        return;
      case "trigger":
        if (m.attempt !== this.attempt) return;
        for (const t of this.tasks) if (this.c.graph.vertex(t.ref.vertex).kind === "source") t.task.triggerCheckpoint(m.id);
        return;
      case "notify":
        if (m.attempt !== this.attempt) return;
        for (const t of this.tasks) t.task.notifyCheckpointComplete(m.id);
        return;
      case "aborted":
        if (m.attempt !== this.attempt) return;
        for (const t of this.tasks) t.task.notifyCheckpointAborted(m.id);
        return;
      case "failoverAck":
        this.failures = this.failures.filter((f) => f.attempt > m.attempt);
        return;
    }
  }

  private reportFailure(attempt: number, task: string, reason: string): void {
    this.c.sim.trace.emit(this.id, "task-failed", { task, attempt, reason });
    this.failures.push({ attempt, task, reason });
    this.send({ t: "failed", tm: this.id, session: this.session, attempt, task, reason });
  }

  // ---- deployment ---------------------------------------------------------------------------

  private deploy(attempt: number, descs: readonly TaskDeployment[]): void {
    this.cancelAll();
    this.attempt = attempt;
    this.ended = new Set();
    this.finishedTasks = new Set();
    const session = this.session;
    let pending = descs.length;
    const ready = (): void => {
      if (--pending === 0 && this.attempt === attempt && this.session === session) {
        this.send({ t: "deployed", tm: this.id, session, attempt });
      }
    };
    for (const d of descs) {
      const task = this.createTask(session, attempt, d);
      const key = TaskDirectory.key(session, attempt, d.ref);
      this.tasks.push({ key, task, ref: d.ref });
      this.c.directory.set(key, task, this.id);
      if (d.restorePath === null) this.initTask(task, d.ref, attempt, null, ready);
      else
        (this.storage as StorageClient).read(d.restorePath, (err, text) => {
          if (err || text === undefined) return task.fail(`cannot read state ${d.restorePath}: ${err?.message ?? "empty"}`);
          this.initTask(task, d.ref, attempt, JSON.parse(text) as JsonValue, ready);
        });
    }
    if (descs.length === 0) this.send({ t: "deployed", tm: this.id, session, attempt });
  }

  /** Create the task's operator and restore it (a method, not a closure per task: see ProducerEnd). */
  private initTask(task: Task, ref: SubtaskRef, attempt: number, restored: JsonValue | null, ready: () => void): void {
    if (!task.alive) return;
    let op: Operator;
    try {
      op = this.createOperator(task, ref, attempt);
    } catch (e) {
      return task.fail(`cannot create operator: ${(e as Error).message}`);
    }
    task.init(op, restored);
    ready();
  }

  private createTask(session: number, attempt: number, d: TaskDeployment): Task {
    const { graph, job, sim } = this.c;
    const node = graph.vertex(d.ref.vertex);
    const outputs = graph.outputs(d.ref);
    const name = subtaskName(d.ref);
    const storage = this.storage as StorageClient;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the callbacks below are methods with their own `this`
    const tm = this;
    const task: Task = new Task({
      sim,
      tm: this.node,
      ref: d.ref,
      node,
      execId: `${session}.${attempt}:${name}`,
      mode: job.checkpoint.mode,
      unaligned: job.checkpoint.unaligned && job.checkpoint.mode === "EXACTLY_ONCE",
      checkpointing: job.checkpoint.intervalMs > 0,
      costMsPerRecord: node.costMsPerRecord ?? job.costMsPerRecord,
      bufferRecords: job.bufferRecords,
      bufferTimeoutMs: job.bufferTimeoutMs,
      channelCredits: job.channelCredits,
      outputs,
      outputKeys: outputs.map((o) => (o.edge.key !== undefined ? this.c.registry.resolve("key", o.edge.key) : undefined)),
      inputCount: node.kind === "source" ? 1 : graph.inputChannels(d.ref).length,
      slowFactor() {
        return tm.c.slowdown.get(d.ref.vertex) ?? 1;
      },
      callbacks: {
        failed(reason) {
          tm.reportFailure(attempt, name, reason);
        },
        acknowledge(id, stateName, bytes, alignmentMs) {
          tm.send({ t: "ack", tm: tm.id, session: tm.session, attempt, id, task: name, stateName, bytes, alignmentMs });
        },
        decline(id, reason) {
          tm.send({ t: "decline", tm: tm.id, session: tm.session, attempt, id, task: name, reason });
        },
        endOfData() {
          if (attempt === tm.attempt) tm.ended.add(name);
          tm.send({ t: "endOfData", tm: tm.id, session: tm.session, attempt, task: name });
        },
        finished() {
          tm.c.finalStates.set(TaskDirectory.key(session, attempt, d.ref), task.operator.finalState?.() ?? []);
          if (attempt === tm.attempt) tm.finishedTasks.add(name);
          tm.send({ t: "finished", tm: tm.id, session: tm.session, attempt, task: name });
        },
        writeState(id, stateName, data, done) {
          storage.writeState(id, stateName, data, (err) => done(err ? `${err.code}: ${err.message}` : undefined));
        },
      },
    });
    return task;
  }

  private createOperator(task: Task, ref: SubtaskRef, attempt: number): Operator {
    const { graph, registry, sim, job } = this.c;
    void attempt;
    const node = graph.vertex(ref.vertex);
    const keyOf = keySelectorOf;
    switch (node.kind) {
      case "source":
        return new SourceOperator(node, ref.subtask, this.brokerFor(task), task, job.sourceFetchRecords, job.sourcePacing ?? "none", job.autoWatermarkIntervalMs);
      case "map":
        return new MapOperator(node, registry, task);
      case "filter":
        return new FilterOperator(node, registry, task);
      case "flatMap":
        return new FlatMapOperator(node, registry, task);
      case "reduce":
        return new ReduceOperator(node, keyOf(node, registry), registry, task);
      case "process":
        return new ProcessOperator(node, keyOf(node, registry), registry, task, {
          subtask: ref.subtask,
          parallelism: node.parallelism,
          scheduler: sim.scheduler,
          owner: this.node,
          enqueue: (a) => task.enqueue(a),
        });
      case "window":
        return new WindowOperator(node, keyOf(node, registry), registry, task);
      case "sink": {
        const fail = (r: string): void => task.fail(r);
        if (node.sink === "twoPhaseCommit") {
          const s = new TwoPhaseCommitSink(node, ref.subtask, this.brokerFor(task), fail, job.checkpoint.intervalMs > 0);
          const onIdle = (): void => task.enqueue(() => task.maybeFinish()); // not a literal assigned to a property (see `oldGenerationShapes` in eslint.config.js)
          s.onIdle = onIdle;
          return s;
        }
        const key = node.sink === "upsert" && node.upsertKey !== undefined ? registry.resolve("key", node.upsertKey) : undefined;
        return new AtLeastOnceSink(node, ref.subtask, this.brokerFor(task), fail, key);
      }
    }
  }

  private brokerFor(task: Task): ReturnType<typeof brokerPort> {
    return brokerPort(
      new BrokerClient(this.c.sim.network, this.c.sim.scheduler, this.node, "broker", (err) => task.fail(`broker connection broken: ${err.code}`)),
    );
  }

  /** Every TaskManager has deployed: connect output channels to their consumers and start. */
  private startAll(): void {
    const { graph, directory, sim, job } = this.c;
    for (const d of this.tasks) {
      const producer = d.task;
      graph.outputs(d.ref).forEach((spec, o) => {
        spec.targets.forEach((target, ci) => {
          const edgeIndex = graph.vertex(spec.consumer).inputs.indexOf(spec.edge);
          const ckey = TaskDirectory.key(this.session, this.attempt, target);
          const consumer = directory.get(ckey);
          if (consumer === undefined) return producer.fail(`consumer ${subtaskName(target)} is not deployed`);
          const inputIndex = graph
            .inputChannels(target)
            .findIndex((ic) => ic.edgeIndex === edgeIndex && ic.from.vertex === d.ref.vertex && ic.from.subtask === d.ref.subtask);
          const out = (producer.outputChannels[o] ?? [])[ci];
          const inp = consumer.task.inputs[inputIndex];
          if (out === undefined || inp === undefined) return producer.fail(`no channel ${subtaskName(d.ref)} -> ${subtaskName(target)}`);
          const producerEnd = new ProducerEnd(producer, o, ci, target);
          const consumerEnd = new ConsumerEnd(consumer.task, inputIndex, d.ref);
          const conn = sim.network.connect(this.id, consumer.tm, producerEnd, consumerEnd);
          out.conn = conn;
          inp.conn = conn;
          out.credits = job.channelCredits;
        });
      });
    }
    for (const d of this.tasks) d.task.start();
  }

  /** Keyed state of this TaskManager's tasks (for the state check at job end). */
  liveTasks(): readonly Deployed[] {
    return this.tasks;
  }
}
