/**
 * Data channels between subtasks: a producer-side writer with a buffer, a queue of full buffers
 * and credits (credit-based flow control), and a consumer-side input channel with received buffers.
 * Both ride on one reliable simulated connection; its break fails the tasks at both ends.
 */
import type { Connection } from "../../sim/network.ts";
import type { Element } from "./graph.ts";

/**
 * A buffer of elements, a credit, or an unaligned barrier: a priority event sent out of band,
 * ahead of the buffers still queued for credit (Flink's unaligned checkpoints).
 */
export type ChannelMessage = { readonly b: Element[] } | { readonly credit: number } | { readonly ub: number };

/** How many of a task's output channels have buffers waiting for credit (shared by its channels). */
export type BacklogCount = { n: number };

/** The message returning one credit: the same (frozen) object every time, it is only read. */
const ONE_CREDIT: ChannelMessage = Object.freeze({ credit: 1 });

/** Producer side of one channel. */
export class OutputChannel {
  buffer: Element[] = [];
  /** Sealed buffers waiting for credit; change it only through seal, requeue and pump (they keep `backlogged` counted). */
  readonly queue: Element[][] = [];
  credits = 0;
  conn: Connection | undefined;

  constructor(
    readonly name: string,
    /** The owning task's count of channels with a backlog. */
    private readonly backlogged: BacklogCount = { n: 0 },
  ) {}

  /** Move the current buffer (if not empty) to the send queue. */
  seal(): void {
    if (this.buffer.length === 0) return;
    if (this.queue.length === 0) this.backlogged.n++;
    this.queue.push(this.buffer);
    this.buffer = [];
  }

  /** Put restored in-flight data back at the head of the send queue. */
  requeue(elements: Element[]): void {
    if (this.queue.length === 0) this.backlogged.n++;
    this.queue.unshift(elements);
  }

  /** Send queued buffers while credits last. */
  pump(): void {
    const c = this.conn;
    if (c === undefined || !c.open) return;
    if (this.credits <= 0 || this.queue.length === 0) return;
    while (this.credits > 0 && this.queue.length > 0) {
      const b = this.queue.shift() as Element[];
      this.credits--;
      c.endA.send({ b } satisfies ChannelMessage, 64 + b.length * 32);
    }
    if (this.queue.length === 0) this.backlogged.n--;
  }

  /** Buffers waiting for credit. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Send an unaligned barrier now, overtaking the queued buffers (no credit needed). */
  sendPriority(msg: ChannelMessage): void {
    const c = this.conn;
    if (c !== undefined && c.open) c.endA.send(msg, 16);
  }

  /** The data not yet handed to the network (queued and current buffer), copied. */
  inflight(): Element[] {
    const out: Element[] = [];
    for (const b of this.queue) for (const e of b) out.push(e);
    for (const e of this.buffer) out.push(e);
    return out;
  }
}

/** Consumer side of one channel. */
export class InputChannel {
  readonly buffers: Element[][] = [];
  /** Position in the head buffer. */
  pos = 0;
  blocked = false;
  ended = false;
  watermark = -Number.MAX_SAFE_INTEGER;
  conn: Connection | undefined;

  constructor(
    readonly index: number,
    readonly name: string,
  ) {}

  /** Buffers that came from a restored checkpoint, not from the producer: they return no credit. */
  readonly restored = new Set<Element[]>();

  hasData(): boolean {
    return this.buffers.length > 0;
  }

  /** Unprocessed elements queued on this channel, copied. */
  unprocessed(): Element[] {
    const out: Element[] = [];
    this.buffers.forEach((b, i) => {
      for (let j = i === 0 ? this.pos : 0; j < b.length; j++) out.push(b[j] as Element);
    });
    return out;
  }

  /** Return one credit to the producer for a fully consumed buffer. */
  returnCredit(): void {
    const c = this.conn;
    if (c !== undefined && c.open) c.endB.send(ONE_CREDIT, 16);
  }
}
