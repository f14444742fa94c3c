/**
 * The simulated network: datagrams, reliable FIFO connections, partitions and clogs.
 *
 * Every ordered pair of nodes (from, to) is a link. Messages travel on channels: one datagram
 * channel per link, and one channel per direction of each connection. A channel is a FIFO queue
 * with a single scheduled "pump" event for its head, so a message's delivery time is
 * max(send time + sampled latency, delivery time of the previous message on the channel) and
 * nothing overtakes on a channel whatever the latency distribution.
 *
 * Faults come in pairs: `partition`/`heal` (drops datagrams, breaks connections) and
 * `clog`/`unclog` (holds messages without breaking anything). A node crash drops its listeners
 * and breaks its connections; messages in flight to it are dropped at delivery, also when it
 * has restarted in between (the destination's incarnation is part of each message).
 *
 * Hot path: a send is two Map lookups, a latency draw, one message object and at most one
 * scheduler event; no per-message closures or arrays.
 */
import { assert } from "./assert.ts";
import { validateDistribution } from "./random.ts";
import type { Distribution, Random } from "./random.ts";
import type { NodeId, Scheduler, SimNode, Timer } from "./scheduler.ts";
import type { Trace } from "./trace.ts";

export type NetworkOptions = {
  /** Latency of a link between two different nodes, in milliseconds. */
  readonly latency: Distribution;
  /** Latency of a node talking to itself (loopback), in milliseconds. Loopback is never partitioned. */
  readonly localLatency: Distribution;
  /** Probability that a datagram on a link between different nodes is lost. Connection messages are never lost. */
  readonly lossProbability: number;
  /** Probability that a datagram on a link between different nodes is delivered twice. Connections never duplicate. */
  readonly duplicateProbability: number;
  /** How long after a crash or partition starts the live ends of broken connections learn of it, in milliseconds. */
  readonly connectionBreakDelayMs: number;
};

export const defaultNetworkOptions: NetworkOptions = {
  latency: { kind: "uniform", minMs: 1, maxMs: 5 },
  localLatency: { kind: "constant", ms: 0.05 },
  lossProbability: 0,
  duplicateProbability: 0,
  connectionBreakDelayMs: 50,
};

const distributionKinds: readonly string[] = ["constant", "uniform", "exponential", "bimodal"];

function checkDistribution(d: unknown, field: string): string | undefined {
  if (typeof d !== "object" || d === null) return `${field} must be a distribution object, got ${String(d)}`;
  const kind = (d as { kind?: unknown }).kind;
  if (typeof kind !== "string" || !distributionKinds.includes(kind)) {
    return `${field}.kind must be one of ${distributionKinds.join(", ")}, got ${String(kind)}`;
  }
  return validateDistribution(d as Distribution, field);
}

function checkProbability(p: unknown, field: string): string | undefined {
  return typeof p === "number" && p >= 0 && p <= 1 ? undefined : `${field} must be in [0, 1], got ${String(p)}`;
}

/** Checks every field; returns an error sentence naming the first bad field, or undefined. */
export function validateNetworkOptions(o: NetworkOptions): string | undefined {
  const d = o.connectionBreakDelayMs as unknown;
  return checkDistribution(o.latency, "network.latency") ??
    checkDistribution(o.localLatency, "network.localLatency") ??
    checkProbability(o.lossProbability, "network.lossProbability") ??
    checkProbability(o.duplicateProbability, "network.duplicateProbability") ??
    (typeof d === "number" && Number.isFinite(d) && d >= 0
      ? undefined
      : `network.connectionBreakDelayMs must be a finite number >= 0, got ${String(d)}`);
}

/** Real socket error codes that the code under test must handle. */
export type NetErrorCode = "ECONNRESET" | "ECONNREFUSED" | "ETIMEDOUT";

/** A simulated socket error. */
export class NetError extends Error {
  override readonly name = "NetError";
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    // No stack trace: a simulated error is a value handed to a callback, and the message says what broke.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${message}`);
    Error.stackTraceLimit = limit;
  }
}

export type DatagramHandler = (payload: unknown, from: NodeId) => void;

export type ConnectionHandlers = {
  /** A message from the peer, in send order, exactly once while the connection is open. */
  onMessage(payload: unknown): void;
  /** The connection broke (ECONNRESET, ECONNREFUSED, or ETIMEDOUT for a connect across a partition). */
  onBreak(err: NetError): void;
};

/** One side of a connection. */
export interface ConnectionEnd {
  readonly node: NodeId;
  readonly peer: NodeId;
  /** Same as the connection's `open`. */
  readonly open: boolean;
  /** Send to the peer; false (and nothing sent) when the connection is closed or broken. */
  send(payload: unknown, sizeBytes?: number): boolean;
  /** Graceful close: both ends stop at once, in-flight messages are discarded, no onBreak. */
  close(): void;
}

/** A reliable FIFO connection between two nodes (like TCP). */
export interface Connection {
  readonly id: number;
  /** False once closed or broken; never becomes true again. */
  readonly open: boolean;
  /** The end on the node that connected (`a` in `connect(a, b, ...)`). */
  readonly endA: ConnectionEnd;
  readonly endB: ConnectionEnd;
  close(): void;
}

export type PartitionId = number & { readonly __brand: "PartitionId" };

export type NetworkStats = {
  /** Messages handed to the network (datagrams and connection messages; not duplicate copies). */
  readonly sent: number;
  /** Messages handed to a handler (duplicate copies included). */
  readonly delivered: number;
  /** Messages dropped: lost, partitioned, to or from a dead node, no listener, or discarded by a break or close. */
  readonly dropped: number;
  /** Messages that a clog has held so far, those held now included (each is also later delivered or dropped). */
  readonly held: number;
  /** Messages held by clogs right now. */
  readonly heldNow: number;
  /** Extra datagram copies created by duplication. */
  readonly duplicated: number;
};

/** Counters kept as messages move; `held` here counts only messages already released or discarded. */
type MutableStats = { -readonly [K in Exclude<keyof NetworkStats, "heldNow">]: number };

// ---- internals ----------------------------------------------------------------------------

class NodeState {
  readonly ports = new Map<string, DatagramHandler>();
  /** Open connections with an end on this node, in creation order. */
  readonly conns = new Set<Conn>();
  /** Outgoing links by destination. */
  readonly out = new Map<NodeId, Link>();
  constructor(
    readonly id: NodeId,
    readonly node: SimNode,
  ) {}
}

class Msg {
  next: Msg | null = null;
  constructor(
    public dueMs: number,
    /** Datagram port; "" on connections. */
    readonly port: string,
    readonly payload: unknown,
    readonly sizeBytes: number,
    /** The destination's incarnation at send time. */
    readonly toIncarnation: number,
  ) {}
}

/**
 * A channel's pump event, made by a function, not `this.pump = () => ...` (see `oldGenerationShapes`
 * in eslint.config.js).
 */
function pumpOf(net: Network, ch: Channel): () => void {
  return () => net._pump(ch);
}

class Channel {
  head: Msg | null = null;
  tail: Msg | null = null;
  length = 0;
  /** Delivery time of the last message queued: the FIFO floor for the next one. */
  lastDueMs = 0;
  /** The pump event for the head; null when empty or stalled. */
  timer: Timer | null = null;
  /** The head came due while the link was clogged; waits for the link's release. */
  stalled = false;
  /** Discarded (its connection broke or closed); never used again. */
  dead = false;
  readonly pump: () => void;
  constructor(
    readonly link: Link,
    /** Null for the link's datagram channel. */
    readonly conn: Conn | null,
    /** On a connection: true for the A -> B direction. */
    readonly toB: boolean,
    net: Network,
  ) {
    this.pump = pumpOf(net, this);
  }
}

class Link {
  latency: Distribution;
  lossProbability: number;
  duplicateProbability: number;
  /** A partition blocks this link. Always false on loopback. */
  blocked = false;
  /** `clog(from, to)` is in force. */
  pairClogged = false;
  /** Held by a pair clog or a node clog. */
  clogged = false;
  /** Channels stalled on this link's clog, in the order they stalled. */
  stalled: Channel[] = [];
  readonly datagrams: Channel;
  readonly loopback: boolean;
  constructor(
    readonly fromState: NodeState,
    readonly toState: NodeState,
    options: NetworkOptions,
    net: Network,
  ) {
    this.loopback = fromState === toState;
    this.latency = this.loopback ? options.localLatency : options.latency;
    this.lossProbability = this.loopback ? 0 : options.lossProbability;
    this.duplicateProbability = this.loopback ? 0 : options.duplicateProbability;
    this.datagrams = new Channel(this, null, true, net);
  }
  get from(): NodeId {
    return this.fromState.id;
  }
  get to(): NodeId {
    return this.toState.id;
  }
}

class End implements ConnectionEnd {
  constructor(
    private readonly conn: Conn,
    private readonly isA: boolean,
  ) {}
  get node(): NodeId {
    return this.isA ? this.conn.a.id : this.conn.b.id;
  }
  get peer(): NodeId {
    return this.isA ? this.conn.b.id : this.conn.a.id;
  }
  get open(): boolean {
    return this.conn.open;
  }
  send(payload: unknown, sizeBytes = 64): boolean {
    return this.conn.net._connectionSend(this.conn, this.isA, payload, sizeBytes);
  }
  close(): void {
    this.conn.close();
  }
}

class Conn implements Connection {
  open = true;
  readonly endA: End;
  readonly endB: End;
  readonly ab: Channel;
  readonly ba: Channel;
  constructor(
    readonly id: number,
    readonly net: Network,
    readonly a: NodeState,
    readonly b: NodeState,
    readonly linkAB: Link,
    readonly linkBA: Link,
    readonly handlersA: ConnectionHandlers,
    readonly handlersB: ConnectionHandlers,
  ) {
    this.endA = new End(this, true);
    this.endB = new End(this, false);
    this.ab = new Channel(linkAB, this, true, net);
    this.ba = new Channel(linkBA, this, false, net);
  }
  close(): void {
    this.net._closeConnection(this);
  }
}

type Partition = {
  readonly id: PartitionId;
  readonly a: ReadonlySet<string>;
  readonly b: ReadonlySet<string>;
  readonly oneWay: boolean;
};

/** The node name used for the network's own trace events. */
const TRACE_NODE = "network";

export class Network {
  readonly options: NetworkOptions;
  private readonly latencyRandom: Random;
  private readonly lossRandom: Random;
  private readonly duplicateRandom: Random;
  private readonly nodes = new Map<NodeId, NodeState>();
  /** Every link, in creation order. */
  private readonly links: Link[] = [];
  /** Open connections by id (insertion order = id order). */
  private readonly openConns = new Map<number, Conn>();
  private readonly partitions = new Map<PartitionId, Partition>();
  private readonly cloggedNodes = new Set<string>();
  private nextConnectionId = 1;
  private nextPartitionId = 1;
  private queued = 0;
  private readonly counters: MutableStats = { sent: 0, delivered: 0, dropped: 0, held: 0, duplicated: 0 };
  /** Servers by kind and node, so a client that knows a node id can reach the server on it. */
  private readonly servers = new Map<string, unknown>();

  constructor(
    private readonly scheduler: Scheduler,
    random: Random,
    private readonly trace: Trace,
    options: Partial<NetworkOptions> = {},
  ) {
    const merged: Record<string, unknown> = { ...defaultNetworkOptions };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) merged[k] = v;
    this.options = merged as NetworkOptions;
    const err = validateNetworkOptions(this.options);
    if (err !== undefined) throw new Error(err);
    // Separate substreams: changing the loss setting does not shift the latency draws.
    this.latencyRandom = random.fork("latency");
    this.lossRandom = random.fork("loss");
    this.duplicateRandom = random.fork("duplicate");
  }

  /** A snapshot of the counters (walks the stalled channels: not for hot paths). */
  get stats(): NetworkStats {
    let heldNow = 0;
    for (const l of this.links) {
      for (const ch of l.stalled) if (ch.stalled && !ch.dead) heldNow += this.countDue(ch);
    }
    return { ...this.counters, held: this.counters.held + heldNow, heldNow };
  }

  /** Messages queued on channels right now (in flight or held). sent + duplicated = delivered + dropped + inFlight. */
  get inFlight(): number {
    return this.queued;
  }

  // ---- per-link settings ------------------------------------------------------------------

  setLinkLatency(from: NodeId | string, to: NodeId | string, d: Distribution): void {
    const err = checkDistribution(d, `network.setLinkLatency(${from}, ${to}).latency`);
    if (err !== undefined) throw new Error(err);
    this.link(from as NodeId, to as NodeId).latency = d;
  }

  /** Loss probability of datagrams on one link (loopback included). */
  setLinkLoss(from: NodeId | string, to: NodeId | string, lossProbability: number): void {
    const err = checkProbability(lossProbability, `network.setLinkLoss(${from}, ${to}).lossProbability`);
    if (err !== undefined) throw new Error(err);
    this.link(from as NodeId, to as NodeId).lossProbability = lossProbability;
  }

  // ---- datagrams --------------------------------------------------------------------------

  /** Deliver `handler(payload, from)` for datagrams sent to `node` on `port` until the node crashes. */
  listen(node: NodeId | string, port: string, handler: DatagramHandler): void {
    const s = this.state(node as NodeId);
    assert(s.node.alive, `listen on dead node ${node} (port ${port})`);
    assert(!s.ports.has(port), `port ${port} on node ${node} already has a listener`);
    s.ports.set(port, handler);
  }

  /** Stop listening on a port (a no-op when nobody listens there). */
  unlisten(node: NodeId | string, port: string): void {
    this.state(node as NodeId).ports.delete(port);
  }

  /**
   * Send a datagram. It may be lost or duplicated (per the link's probabilities), is dropped if
   * either node is dead or the link is partitioned at send or delivery time, and is FIFO per link.
   * A datagram already sent is delivered even if its sender crashes meanwhile.
   */
  send(from: NodeId | string, to: NodeId | string, port: string, payload: unknown, sizeBytes = 64): void {
    const link = this.link(from as NodeId, to as NodeId);
    this.counters.sent++;
    if (!link.fromState.node.alive) return this.drop(link, port, "sender-dead");
    const toNode = link.toState.node;
    if (!toNode.alive) return this.drop(link, port, "destination-dead");
    if (link.blocked) return this.drop(link, port, "partition");
    if (link.lossProbability > 0 && this.lossRandom.chance(link.lossProbability)) {
      return this.drop(link, port, "loss");
    }
    this.enqueue(link.datagrams, port, payload, sizeBytes, toNode.incarnation);
    if (link.duplicateProbability > 0 && this.duplicateRandom.chance(link.duplicateProbability)) {
      this.counters.duplicated++;
      this.enqueue(link.datagrams, port, payload, sizeBytes, toNode.incarnation);
    }
  }

  // ---- connections ------------------------------------------------------------------------

  /**
   * Open a reliable FIFO connection between `a` and `b` (open at once, no handshake delay).
   * To a dead node it is created broken, and each live end gets ECONNREFUSED after one latency;
   * across a partition it is created broken, and each end gets ETIMEDOUT after `connectionBreakDelayMs`.
   */
  connect(a: NodeId | string, b: NodeId | string, handlersA: ConnectionHandlers, handlersB: ConnectionHandlers): Connection {
    const linkAB = this.link(a as NodeId, b as NodeId);
    const linkBA = this.link(b as NodeId, a as NodeId);
    const sa = linkAB.fromState;
    const sb = linkAB.toState;
    const conn = new Conn(this.nextConnectionId++, this, sa, sb, linkAB, linkBA, handlersA, handlersB);
    if (!sa.node.alive || !sb.node.alive) {
      conn.open = false;
      this.emitBreak(conn, "refused");
      if (sa.node.alive) this.notifyBreak(sa.node, handlersA, "ECONNREFUSED", `connect to ${sb.id} refused`, this.latencyRandom.sample(linkAB.latency));
      if (sb.node.alive) this.notifyBreak(sb.node, handlersB, "ECONNREFUSED", `connect from ${sa.id} refused`, this.latencyRandom.sample(linkBA.latency));
      return conn;
    }
    if (linkAB.blocked || linkBA.blocked) {
      conn.open = false;
      this.emitBreak(conn, "partition");
      const delay = this.options.connectionBreakDelayMs;
      this.notifyBreak(sa.node, handlersA, "ETIMEDOUT", `connect to ${sb.id} timed out (partition)`, delay);
      this.notifyBreak(sb.node, handlersB, "ETIMEDOUT", `connect from ${sa.id} timed out (partition)`, delay);
      return conn;
    }
    sa.conns.add(conn);
    sb.conns.add(conn);
    this.openConns.set(conn.id, conn);
    return conn;
  }

  /**
   * Register `server` as the `kind` server on `node` (service discovery: a client that knows a node
   * id finds the server there). One server of a kind per node.
   */
  registerServer(kind: string, node: NodeId | string, server: unknown): void {
    const key = `${kind}@${node}`;
    assert(!this.servers.has(key), `node ${node} already runs a ${kind} server on this network`);
    this.servers.set(key, server);
  }

  /** The `kind` server registered on `node`, if any. */
  server(kind: string, node: NodeId | string): unknown {
    return this.servers.get(`${kind}@${node}`);
  }

  /** How many connections are open right now. */
  openConnectionCount(): number {
    return this.openConns.size;
  }

  // ---- partitions -------------------------------------------------------------------------

  /**
   * Block links between two groups: both directions, or only A -> B with `oneWay`. Datagrams on
   * blocked links are dropped (also those already in flight), connections across are broken.
   */
  partition(groupA: readonly (NodeId | string)[], groupB: readonly (NodeId | string)[], opts: { oneWay?: boolean } = {}): PartitionId {
    const a = new Set<string>(groupA);
    const b = new Set<string>(groupB);
    for (const n of groupA) assert(this.scheduler.hasNode(n), `partition names unknown node ${n}`);
    for (const n of groupB) assert(this.scheduler.hasNode(n), `partition names unknown node ${n}`);
    for (const n of groupA) assert(!b.has(n), `partition groups must be disjoint; ${n} is in both`);
    const id = this.nextPartitionId++ as PartitionId;
    const oneWay = opts.oneWay === true;
    this.partitions.set(id, { id, a, b, oneWay });
    this.trace.emit(TRACE_NODE, "partition", { id, groupA: [...a], groupB: [...b], oneWay });
    this.recomputeBlocked();
    const affected: Conn[] = [];
    for (const c of this.openConns.values()) if (c.linkAB.blocked || c.linkBA.blocked) affected.push(c);
    for (const c of affected) this.breakConnection(c, "partition");
    return id;
  }

  /** Remove one partition, or all of them without an id. Healing does not reopen broken connections. */
  heal(id?: PartitionId): void {
    if (id === undefined) {
      if (this.partitions.size === 0) return;
      const ids = [...this.partitions.keys()];
      this.partitions.clear();
      this.trace.emit(TRACE_NODE, "heal", { ids });
    } else {
      if (!this.partitions.delete(id)) return;
      this.trace.emit(TRACE_NODE, "heal", { ids: [id] });
    }
    this.recomputeBlocked();
  }

  /** Whether a partition blocks messages from `from` to `to` right now. */
  isBlocked(from: NodeId | string, to: NodeId | string): boolean {
    const link = this.nodes.get(from as NodeId)?.out.get(to as NodeId);
    return link !== undefined ? link.blocked : this.computeBlocked(from, to);
  }

  // ---- clogs ------------------------------------------------------------------------------

  /** Hold every message on the link from -> to (nothing is dropped or broken) until `unclog`. */
  clog(from: NodeId | string, to: NodeId | string): void {
    const link = this.link(from as NodeId, to as NodeId);
    if (link.pairClogged) return;
    link.pairClogged = true;
    this.trace.emit(TRACE_NODE, "clog", { from: link.from, to: link.to });
    this.recomputeClog(link);
  }

  /** Release a link's held messages in their original order, each after a fresh latency. */
  unclog(from: NodeId | string, to: NodeId | string): void {
    const link = this.nodes.get(from as NodeId)?.out.get(to as NodeId);
    if (link === undefined || !link.pairClogged) return;
    link.pairClogged = false;
    this.trace.emit(TRACE_NODE, "unclog", { from: link.from, to: link.to });
    this.recomputeClog(link);
  }

  /** Clog every link into and out of `node` (not its loopback), including links first used later. */
  clogNode(node: NodeId | string): void {
    assert(this.scheduler.hasNode(node), `clogNode names unknown node ${node}`);
    if (this.cloggedNodes.has(node)) return;
    this.cloggedNodes.add(node);
    this.trace.emit(TRACE_NODE, "clog", { node });
    for (const l of this.links) if (l.from === node || l.to === node) this.recomputeClog(l);
  }

  unclogNode(node: NodeId | string): void {
    if (!this.cloggedNodes.delete(node)) return;
    this.trace.emit(TRACE_NODE, "unclog", { node });
    for (const l of this.links) if (l.from === node || l.to === node) this.recomputeClog(l);
  }

  isClogged(from: NodeId | string, to: NodeId | string): boolean {
    const link = this.nodes.get(from as NodeId)?.out.get(to as NodeId);
    if (link !== undefined) return link.clogged;
    return from !== to && (this.cloggedNodes.has(from) || this.cloggedNodes.has(to));
  }

  // ---- internals: channels ----------------------------------------------------------------

  private enqueue(ch: Channel, port: string, payload: unknown, sizeBytes: number, toIncarnation: number): void {
    let due = this.scheduler.now + this.latencyRandom.sample(ch.link.latency);
    if (due < ch.lastDueMs) due = ch.lastDueMs;
    ch.lastDueMs = due;
    const m = new Msg(due, port, payload, sizeBytes, toIncarnation);
    if (ch.tail === null) ch.head = m;
    else ch.tail.next = m;
    ch.tail = m;
    ch.length++;
    this.queued++;
    if (ch.timer === null && !ch.stalled) {
      assert(ch.head === m, "a channel without a pump event must have been empty");
      ch.timer = this.scheduler.at(due, ch.pump);
    }
  }

  /** @internal The head of `ch` is due. */
  _pump(ch: Channel): void {
    ch.timer = null;
    const m = ch.head;
    assert(m !== null, "a channel's pump fired with an empty queue");
    const link = ch.link;
    if (link.clogged) {
      ch.stalled = true;
      link.stalled.push(ch);
      return;
    }
    ch.head = m.next;
    if (ch.head === null) ch.tail = null;
    else ch.timer = this.scheduler.at(ch.head.dueMs, ch.pump);
    m.next = null;
    ch.length--;
    this.queued--;
    // The next head is scheduled before the handler runs, so handlers may send on this channel.
    if (ch.conn === null) this.deliverDatagram(link, m);
    else this.deliverOnConnection(ch, ch.conn, m);
  }

  private deliverDatagram(link: Link, m: Msg): void {
    if (link.blocked) return this.drop(link, m.port, "partition");
    const to = link.toState;
    if (!to.node.alive || to.node.incarnation !== m.toIncarnation) return this.drop(link, m.port, "destination-crashed");
    const handler = to.ports.get(m.port);
    if (handler === undefined) return this.drop(link, m.port, "no-listener");
    this.counters.delivered++;
    if (this.trace.detailed) {
      this.trace.detail(to.id, "net-deliver", { from: link.from, port: m.port, sizeBytes: m.sizeBytes });
    }
    handler(m.payload, link.from);
  }

  private deliverOnConnection(ch: Channel, conn: Conn, m: Msg): void {
    if (!conn.open) assert(false, `connection ${conn.id} delivered a message after it closed`);
    const to = ch.toB ? conn.b : conn.a;
    if (to.node.incarnation !== m.toIncarnation) assert(false, `connection ${conn.id} outlived a crash of ${to.id}`);
    this.counters.delivered++;
    if (this.trace.detailed) {
      this.trace.detail(to.id, "net-deliver", { from: ch.link.from, connection: conn.id, sizeBytes: m.sizeBytes });
    }
    (ch.toB ? conn.handlersB : conn.handlersA).onMessage(m.payload);
  }

  /** Drop everything queued on `ch` and retire it. */
  private discard(ch: Channel): void {
    this.scheduler.cancel(ch.timer);
    ch.timer = null;
    if (ch.stalled) this.counters.held += this.countDue(ch);
    this.counters.dropped += ch.length;
    this.queued -= ch.length;
    if (ch.length > 0 && this.trace.detailed) {
      this.trace.detail(ch.link.to, "net-drop", { from: ch.link.from, count: ch.length, reason: "connection-closed" });
    }
    ch.head = null;
    ch.tail = null;
    ch.length = 0;
    ch.stalled = false;
    ch.dead = true;
  }

  /** Messages on a stalled channel that came due while clogged, i.e. were held. */
  private countDue(ch: Channel): number {
    const now = this.scheduler.now;
    let n = 0;
    let m = ch.head;
    for (let i = 0; i < ch.length && m !== null && m.dueMs <= now; i++, m = m.next) n++;
    return n;
  }

  /** The link is no longer clogged: re-time held messages at now + latency, FIFO kept, and restart the pumps. */
  private release(link: Link): void {
    const stalled = link.stalled;
    link.stalled = [];
    const now = this.scheduler.now;
    for (const ch of stalled) {
      if (ch.dead || !ch.stalled) continue;
      ch.stalled = false;
      let prev = now;
      let m = ch.head;
      for (let i = 0; i < ch.length; i++) {
        assert(m !== null, "channel length is larger than its queue");
        let due: number;
        if (m.dueMs <= now) {
          this.counters.held++;
          due = now + this.latencyRandom.sample(link.latency);
        } else {
          due = m.dueMs;
        }
        if (due < prev) due = prev;
        m.dueMs = due;
        prev = due;
        m = m.next;
      }
      assert(m === null, "channel queue is longer than its length");
      ch.lastDueMs = prev;
      if (ch.head !== null) ch.timer = this.scheduler.at(ch.head.dueMs, ch.pump);
    }
  }

  private recomputeClog(link: Link): void {
    const was = link.clogged;
    link.clogged = link.pairClogged ||
      (!link.loopback && (this.cloggedNodes.has(link.from) || this.cloggedNodes.has(link.to)));
    if (was && !link.clogged) this.release(link);
  }

  private computeBlocked(from: string, to: string): boolean {
    if (from === to) return false;
    for (const p of this.partitions.values()) {
      if (p.a.has(from) && p.b.has(to)) return true;
      if (!p.oneWay && p.b.has(from) && p.a.has(to)) return true;
    }
    return false;
  }

  private recomputeBlocked(): void {
    for (const l of this.links) l.blocked = this.computeBlocked(l.from, l.to);
  }

  private drop(link: Link, port: string, reason: string): void {
    this.counters.dropped++;
    if (this.trace.detailed) this.trace.detail(link.to, "net-drop", { from: link.from, port, reason });
  }

  // ---- internals: connections -------------------------------------------------------------

  /** @internal */
  _connectionSend(conn: Conn, fromA: boolean, payload: unknown, sizeBytes: number): boolean {
    if (!conn.open) return false;
    this.counters.sent++;
    this.enqueue(fromA ? conn.ab : conn.ba, "", payload, sizeBytes, (fromA ? conn.b : conn.a).node.incarnation);
    return true;
  }

  /** @internal */
  _closeConnection(conn: Conn): void {
    if (!conn.open) return;
    this.retire(conn);
    if (this.trace.detailed) this.trace.detail(TRACE_NODE, "connection-close", { id: conn.id, a: conn.a.id, b: conn.b.id });
  }

  private retire(conn: Conn): void {
    conn.open = false;
    conn.a.conns.delete(conn);
    conn.b.conns.delete(conn);
    this.openConns.delete(conn.id);
    this.discard(conn.ab);
    this.discard(conn.ba);
  }

  private breakConnection(conn: Conn, reason: "crash" | "partition"): void {
    assert(conn.open, `connection ${conn.id} broke twice`);
    this.retire(conn);
    this.emitBreak(conn, reason);
    const delay = this.options.connectionBreakDelayMs;
    const what = reason === "crash" ? "peer or own node crashed" : "network partition";
    this.notifyBreak(conn.a.node, conn.handlersA, "ECONNRESET", `connection ${conn.id} to ${conn.b.id} reset (${what})`, delay);
    if (conn.b !== conn.a) {
      this.notifyBreak(conn.b.node, conn.handlersB, "ECONNRESET", `connection ${conn.id} to ${conn.a.id} reset (${what})`, delay);
    }
  }

  private emitBreak(conn: Conn, reason: string): void {
    this.trace.emit(TRACE_NODE, "connection-break", { id: conn.id, a: conn.a.id, b: conn.b.id, reason });
  }

  /** onBreak after `delayMs` if the end's node is alive now and still in the same incarnation then. */
  private notifyBreak(node: SimNode, handlers: ConnectionHandlers, code: NetErrorCode, message: string, delayMs: number): void {
    if (!node.alive) return;
    this.scheduler.schedule(delayMs, () => handlers.onBreak(new NetError(code, message)), node);
  }

  private onNodeCrash(s: NodeState): void {
    s.ports.clear();
    const conns = [...s.conns];
    for (const c of conns) this.breakConnection(c, "crash");
  }

  // ---- internals: nodes and links ---------------------------------------------------------

  private state(id: NodeId): NodeState {
    let s = this.nodes.get(id);
    if (s === undefined) {
      const node = this.scheduler.node(id);
      const ns = new NodeState(id, node);
      node.onCrash(() => this.onNodeCrash(ns));
      this.nodes.set(id, ns);
      s = ns;
    }
    return s;
  }

  private link(from: NodeId, to: NodeId): Link {
    const fs = this.state(from);
    const existing = fs.out.get(to);
    if (existing !== undefined) return existing;
    const link = new Link(fs, this.state(to), this.options, this);
    link.blocked = this.computeBlocked(from, to);
    fs.out.set(to, link);
    this.links.push(link);
    this.recomputeClog(link);
    return link;
  }
}
