/**
 * The execution graph: the logical plan expanded into parallel subtasks joined by channels, and
 * the elements that travel on channels.
 */
import type { Value } from "../plan/functions.ts";
import type { Edge, Plan, PlanNode } from "../plan/plan.ts";
import { stringHash } from "../plan/registry.ts";

/** Flink's default max parallelism: keys map to key groups, key groups to subtasks. */
export const MAX_PARALLELISM = 128;

export function keyGroupOf(key: string): number {
  return stringHash(key) % MAX_PARALLELISM;
}
/** Flink's KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup. */
export function subtaskForKeyGroup(keyGroup: number, parallelism: number): number {
  return Math.floor((keyGroup * parallelism) / MAX_PARALLELISM);
}
export function subtaskForKey(key: string, parallelism: number): number {
  return subtaskForKeyGroup(keyGroupOf(key), parallelism);
}

// ---- channel elements ---------------------------------------------------------------------------

/** Element tags (numbers: the record path is hot). */
export const REC = 0;
export const WM = 1;
export const BARRIER = 2;
export const END = 3;
/** Flink's CancelCheckpointMarker: the sender gave up checkpoint `id`; its barrier will not come on this channel. */
export const CANCEL = 4;
export type RecordEl = { readonly k: typeof REC; readonly v: Value; readonly ts: number };
export type WatermarkEl = { readonly k: typeof WM; readonly wm: number };
export type BarrierEl = { readonly k: typeof BARRIER; readonly id: number };
export type EndEl = { readonly k: typeof END };
export type CancelEl = { readonly k: typeof CANCEL; readonly id: number };
export type Element = RecordEl | WatermarkEl | BarrierEl | EndEl | CancelEl;
/** A checkpoint marker (a barrier or a cancellation), not data: never part of a channel's state. */
export const isMarker = (e: Element): boolean => e.k === BARRIER || e.k === CANCEL;

// ---- graph ------------------------------------------------------------------------------------

export type SubtaskRef = { readonly vertex: string; readonly subtask: number };
export const subtaskName = (r: SubtaskRef): string => `${r.vertex}#${r.subtask}`;

/** One input channel of a consumer subtask. */
export type InputChannelSpec = { readonly edgeIndex: number; readonly from: SubtaskRef };

/** The output side of one edge, seen from a producer subtask. */
export type OutputSpec = {
  readonly edge: Edge;
  readonly consumer: string;
  /** Consumer subtasks this producer subtask sends to, in order (index = channel number). */
  readonly targets: readonly SubtaskRef[];
  readonly consumerParallelism: number;
};

export class ExecutionGraph {
  readonly vertices: readonly PlanNode[];
  private readonly byId = new Map<string, PlanNode>();
  private readonly consumers = new Map<string, Array<{ node: PlanNode; edgeIndex: number; edge: Edge }>>();

  constructor(readonly plan: Plan) {
    this.vertices = plan.nodes;
    for (const n of plan.nodes) {
      this.byId.set(n.id, n);
      this.consumers.set(n.id, []);
    }
    for (const n of plan.nodes) {
      n.inputs.forEach((edge, edgeIndex) => this.consumers.get(edge.from)?.push({ node: n, edgeIndex, edge }));
    }
  }

  vertex(id: string): PlanNode {
    const v = this.byId.get(id);
    if (v === undefined) throw new Error(`unknown vertex ${id}`);
    return v;
  }

  /** Every subtask, in plan order then subtask index. */
  subtasks(): SubtaskRef[] {
    const out: SubtaskRef[] = [];
    for (const v of this.vertices) for (let i = 0; i < v.parallelism; i++) out.push({ vertex: v.id, subtask: i });
    return out;
  }

  /** Slots needed with Flink's slot sharing: the max parallelism. */
  slotsNeeded(): number {
    return Math.max(...this.vertices.map((v) => v.parallelism));
  }

  /** Input channels and outputs per vertex, by subtask: the graph never changes, callers ask per channel. */
  private readonly inputMemo = new Map<string, Array<readonly InputChannelSpec[] | undefined>>();
  private readonly outputMemo = new Map<string, Array<readonly OutputSpec[] | undefined>>();

  /** The input channels of a consumer subtask, in channel order (the same array on every call). */
  inputChannels(ref: SubtaskRef): readonly InputChannelSpec[] {
    let byTask = this.inputMemo.get(ref.vertex);
    if (byTask === undefined) this.inputMemo.set(ref.vertex, (byTask = []));
    return (byTask[ref.subtask] ??= this.computeInputChannels(ref));
  }

  /** The outputs of a producer subtask, one per output edge (the same array on every call). */
  outputs(ref: SubtaskRef): readonly OutputSpec[] {
    let byTask = this.outputMemo.get(ref.vertex);
    if (byTask === undefined) this.outputMemo.set(ref.vertex, (byTask = []));
    return (byTask[ref.subtask] ??= this.computeOutputs(ref));
  }

  private computeInputChannels(ref: SubtaskRef): InputChannelSpec[] {
    const node = this.vertex(ref.vertex);
    const out: InputChannelSpec[] = [];
    node.inputs.forEach((edge, edgeIndex) => {
      const producer = this.vertex(edge.from);
      if (edge.partition === "forward") {
        out.push({ edgeIndex, from: { vertex: producer.id, subtask: ref.subtask } });
      } else {
        for (let i = 0; i < producer.parallelism; i++) out.push({ edgeIndex, from: { vertex: producer.id, subtask: i } });
      }
    });
    return out;
  }

  private computeOutputs(ref: SubtaskRef): OutputSpec[] {
    const out: OutputSpec[] = [];
    for (const c of this.consumers.get(ref.vertex) ?? []) {
      const targets: SubtaskRef[] =
        c.edge.partition === "forward"
          ? [{ vertex: c.node.id, subtask: ref.subtask }]
          : Array.from({ length: c.node.parallelism }, (_, i) => ({ vertex: c.node.id, subtask: i }));
      out.push({ edge: c.edge, consumer: c.node.id, targets, consumerParallelism: c.node.parallelism });
    }
    return out;
  }

  /** Channel identity: producer, consumer and edge. Unique per attempt. */
  static channelKey(from: SubtaskRef, to: SubtaskRef, edgeIndex: number): string {
    return `${subtaskName(from)}->${subtaskName(to)}@${edgeIndex}`;
  }
}
