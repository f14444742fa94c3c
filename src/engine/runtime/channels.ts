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
  /**
   * The buffer being filled: its first `fill` slots. It is made for as many elements as the last
   * sealed buffer held (records per step repeat), not grown push by push.
   */
  private buffer: Element[] = [];
  private fill = 0;
  /** Sealed buffers waiting for credit; change it only through seal, requeue and pump (they keep `backlogged` counted). */
  readonly queue: Element[][] = [];
  credits = 0;
  conn: Connection | undefined;

  constructor(
    readonly name: string,
    /** The owning task's count of channels with a backlog. */
    private readonly backlogged: BacklogCount = { n: 0 },
  ) {}

  /** Add an element to the current buffer; returns how many it holds now. */
  add(el: Element): number {
    // Past the made size, an assignment at the end grows the array as push would.
    this.buffer[this.fill++] = el;
    return this.fill;
  }

  /** Elements in the current (unsealed) buffer. */
  get buffered(): number {
    return this.fill;
  }

  /** Move the current buffer (if not empty) to the send queue. */
  seal(): void {
    const n = this.fill;
    if (n === 0) return;
    const b = this.buffer;
    // A sealed buffer is exactly its elements (trimmed in place if it was made larger).
    if (b.length > n) b.length = n;
    if (this.queue.length === 0) this.backlogged.n++;
    this.queue.push(b);
    this.buffer = new Array<Element>(n);
    this.fill = 0;
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
    for (let i = 0; i < this.fill; i++) out.push(this.buffer[i] as Element);
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
