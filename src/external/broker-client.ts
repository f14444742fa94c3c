/**
 * The log broker over the simulated network: a server on the broker node and a client library.
 *
 * A `BrokerServer` serves a `LogBroker` on one node. A `BrokerClient` opens one reliable FIFO
 * connection from its node to the broker node (the server registers itself per network and node,
 * so a client needs only the broker's node id) and sends requests with ids; the server handles the
 * requests of a connection one at a time, in arrival order, each `requestCostMs * slowFactor` of
 * simulated time after the previous one (Kafka processes one request per connection at a time),
 * and replies on the same connection. Requests take effect in the order they were taken up, across
 * connections (Kafka's one request queue): one taken up later never overtakes one still in its
 * handling, even when a slowBroker fault ended in between. Responses are matched to callbacks by
 * request id.
 *
 * A request the server has received is applied even if the client goes away before the reply
 * (a commit may be applied and its response lost). If the broker node crashes its queued
 * requests are lost and its connections break; the `LogBroker` state is kept (a replicated,
 * durable log) and after a restart the server accepts new connections.
 *
 * No promises: every request takes a callback `(err, result)`, called exactly once from a
 * scheduler event (never synchronously inside the request call), unless the client's own node
 * crashes first.
 */
import { assert } from "../sim/assert.ts";
import type { Connection, ConnectionHandlers, NetError, Network } from "../sim/network.ts";
import type { NodeId, Scheduler, SimNode } from "../sim/scheduler.ts";
import type { JsonValue } from "../sim/trace.ts";
import { BrokerError, FencedError } from "./broker.ts";
import type {
  BrokerErrorCode,
  FetchResult,
  Isolation,
  LogBroker,
  ProducerRecord,
  TopicPartitionOffset,
  TxnState,
  ValuesResult,
} from "./broker.ts";

// ---- protocol ------------------------------------------------------------------------------

export type UpsertEntry = { readonly key: string; readonly value: JsonValue };

/** Every request: its arguments and its result. */
export type BrokerOps = {
  fetch: {
    req: { topic: string; partition: number; offset: number; maxRecords: number; isolation: Isolation };
    res: FetchResult;
  };
  /** A read_uncommitted fetch as parallel arrays of values and timestamps (LogBroker.readValues). */
  fetchValues: {
    req: { topic: string; partition: number; offset: number; maxRecords: number };
    res: ValuesResult;
  };
  /** Per partition: the last stable offset (read_committed) or the log end offset (read_uncommitted). */
  endOffsets: { req: { topic: string; isolation: Isolation }; res: readonly number[] };
  append: { req: { topic: string; partition: number; records: readonly ProducerRecord[] }; res: { baseOffset: number } };
  initTransactions: { req: { tid: string }; res: { epoch: number; txnSeq: number } };
  write: {
    req: { tid: string; epoch: number; topic: string; partition: number; records: readonly ProducerRecord[] };
    res: { txnSeq: number; baseOffset: number };
  };
  /** `write` with the records as parallel arrays (LogBroker.writeValues). */
  writeValues: {
    req: { tid: string; epoch: number; topic: string; partition: number; values: readonly JsonValue[]; timestamps: readonly number[] };
    res: { txnSeq: number; baseOffset: number };
  };
  commit: {
    req: { tid: string; epoch: number; txnSeq: number; checkpointId: number };
    res: { alreadyCommitted: boolean; nextTxnSeq: number };
  };
  abort: { req: { tid: string; epoch: number }; res: { abortedTxnSeq: number | null; nextTxnSeq: number } };
  upsert: { req: { topic: string; entries: readonly UpsertEntry[] }; res: null };
  commitOffsets: { req: { group: string; offsets: readonly TopicPartitionOffset[]; checkpointId: number }; res: null };
  currentTxn: { req: { tid: string }; res: TxnState | null };
};

export type BrokerOp = keyof BrokerOps;

type WireRequest = { [K in BrokerOp]: { readonly id: number; readonly op: K; readonly args: BrokerOps[K]["req"] } }[BrokerOp];

type WireError = {
  readonly code: BrokerErrorCode;
  readonly message: string;
  readonly fenced?: { readonly tid: string; readonly epoch: number; readonly currentEpoch: number; readonly op: string };
};

type WireResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/**
 * A request's callback: `(null, result)` on success, `(error, undefined)` on failure. Checking
 * `err` narrows `result` (TypeScript's dependent parameters):
 * `(err, r) => { if (err) return fail(err); use(r.epoch); }`.
 * Declare both parameters (`(err, _r) => ...`): a one-parameter arrow does not type-check
 * against a union of argument tuples. A callback with no parameters is fine.
 */
export type BrokerCallback<T> = (...args: [err: BrokerError, result: undefined] | [err: null, result: T]) => void;

type AnyCallback = (err: BrokerError | null, result: unknown) => void;

/** Rough wire sizes, in bytes, for the network's accounting. */
const HEADER_BYTES = 64;
const RECORD_BYTES = 32;

function requestBytes(req: WireRequest): number {
  switch (req.op) {
    case "append":
    case "write":
      return HEADER_BYTES + RECORD_BYTES * req.args.records.length;
    case "writeValues":
      return HEADER_BYTES + RECORD_BYTES * req.args.values.length;
    case "upsert":
      return HEADER_BYTES + RECORD_BYTES * req.args.entries.length;
    case "commitOffsets":
      return HEADER_BYTES + 16 * req.args.offsets.length;
    default:
      return HEADER_BYTES;
  }
}

/** Apply one request to the broker. Throws BrokerError for errors the client must see. */
function execute(broker: LogBroker, req: WireRequest): unknown {
  switch (req.op) {
    case "fetch": {
      const a = req.args;
      return broker.read(a.topic, a.partition, a.offset, a.maxRecords, a.isolation);
    }
    case "fetchValues": {
      const a = req.args;
      return broker.readValues(a.topic, a.partition, a.offset, a.maxRecords);
    }
    case "endOffsets": {
      const a = req.args;
      const n = broker.partitionCount(a.topic);
      const out: number[] = [];
      for (let p = 0; p < n; p++) {
        out.push(a.isolation === "read_committed" ? broker.lastStableOffset(a.topic, p) : broker.endOffset(a.topic, p));
      }
      return out;
    }
    case "append":
      return { baseOffset: broker.append(req.args.topic, req.args.partition, req.args.records) };
    case "initTransactions":
      return broker.initTransactions(req.args.tid);
    case "write": {
      const a = req.args;
      return broker.write(a.tid, a.epoch, a.topic, a.partition, a.records);
    }
    case "writeValues": {
      const a = req.args;
      return broker.writeValues(a.tid, a.epoch, a.topic, a.partition, a.values, a.timestamps);
    }
    case "commit": {
      const a = req.args;
      return broker.commit(a.tid, a.epoch, a.txnSeq, { checkpointId: a.checkpointId });
    }
    case "abort":
      return broker.abort(req.args.tid, req.args.epoch);
    case "upsert":
      broker.upsertBatch(req.args.topic, req.args.entries);
      return null;
    case "commitOffsets":
      broker.commitOffsets(req.args.group, req.args.offsets, req.args.checkpointId);
      return null;
    case "currentTxn":
      return broker.currentTxn(req.args.tid) ?? null;
  }
}

function encodeError(e: BrokerError): WireError {
  if (e instanceof FencedError) {
    return { code: e.code, message: e.message, fenced: { tid: e.tid, epoch: e.epoch, currentEpoch: e.currentEpoch, op: e.op } };
  }
  return { code: e.code, message: e.message };
}

function decodeError(w: WireError): BrokerError {
  if (w.fenced !== undefined) return new FencedError(w.fenced.tid, w.fenced.epoch, w.fenced.currentEpoch, w.fenced.op);
  const prefix = `${w.code}: `;
  return new BrokerError(w.code, w.message.startsWith(prefix) ? w.message.slice(prefix.length) : w.message);
}

// ---- server --------------------------------------------------------------------------------

export type BrokerServerOptions = {
  /** Simulated time the broker spends on one request (before the slow factor), in milliseconds. */
  readonly requestCostMs: number;
};

export const defaultBrokerServerOptions: BrokerServerOptions = { requestCostMs: 0.1 };

/** Checks every field; returns an error sentence naming the first bad field, or undefined. */
export function validateBrokerServerOptions(o: BrokerServerOptions): string | undefined {
  const c = o.requestCostMs as unknown;
  if (typeof c !== "number" || !Number.isFinite(c) || c < 0) {
    return `brokerServer.requestCostMs must be a finite number >= 0, got ${String(c)}`;
  }
  return undefined;
}

/** The kind broker servers register under on the network (see Network.registerServer). */
const SERVER_KIND = "broker";

/** The server side of one client connection: a FIFO of received requests, handled one at a time. */
class Session implements ConnectionHandlers {
  conn: Connection | null = null;
  private readonly queue: WireRequest[] = [];
  private busy = false;
  private readonly process: () => void;

  constructor(private readonly server: BrokerServer) {
    this.process = Session.processOf(this);
  }

  /** Made by a function for the reason given at pumpOf in network.ts. */
  private static processOf(s: Session): () => void {
    return () => s.handleHead();
  }

  onMessage(payload: unknown): void {
    this.queue.push(payload as WireRequest);
    if (!this.busy) this.startNext();
  }

  onBreak(_err: NetError): void {
    // The request being handled is still applied (its reply is dropped); see startNext.
  }

  private startNext(): void {
    // As in Kafka, which reads one request of a connection at a time (it mutes the connection
    // while one is in flight): once the connection is closed or broken, the requests behind the
    // one being handled, still in the socket, are gone with it. (Applying them let a cancelled
    // sink's queued initTransactions fence the next attempt's pre-committed transaction.)
    if (this.conn !== null && !this.conn.open) this.queue.length = 0;
    if (this.queue.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.server._scheduleRequest(this.process);
  }

  private handleHead(): void {
    const req = this.queue.shift();
    assert(req !== undefined, "a broker session handled a request it never received");
    const response = this.server._handle(req);
    const conn = this.conn;
    assert(conn !== null, "a broker session received a request before its connection was set");
    conn.endB.send(response, response.ok ? responseBytes(response.result) : HEADER_BYTES);
    this.startNext();
  }
}

function responseBytes(result: unknown): number {
  if (result !== null && typeof result === "object" && "records" in result) {
    return HEADER_BYTES + RECORD_BYTES * (result as FetchResult).records.length;
  }
  if (result !== null && typeof result === "object" && "values" in result) {
    return HEADER_BYTES + RECORD_BYTES * (result as ValuesResult).values.length;
  }
  return HEADER_BYTES;
}

export class BrokerServer {
  readonly options: BrokerServerOptions;
  private slow = 1;
  private handled = 0;
  /** When the last request taken up takes effect (see _scheduleRequest). */
  private lastTakenEffect = 0;

  constructor(
    private readonly network: Network,
    private readonly scheduler: Scheduler,
    readonly node: SimNode,
    readonly broker: LogBroker,
    options: Partial<BrokerServerOptions> = {},
  ) {
    const merged: Record<string, unknown> = { ...defaultBrokerServerOptions };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) merged[k] = v;
    this.options = merged as BrokerServerOptions;
    const err = validateBrokerServerOptions(this.options);
    if (err !== undefined) throw new Error(err);
    network.registerServer(SERVER_KIND, node.id, this);
    // A crash drops the requests in handling: nothing is left to wait for.
    node.onCrash(() => {
      this.lastTakenEffect = 0;
    });
  }

  /** The server registered on `nodeId` of `network`, if any. */
  static lookup(network: Network, nodeId: NodeId | string): BrokerServer | undefined {
    return network.server(SERVER_KIND, nodeId) as BrokerServer | undefined;
  }

  /** Multiplies the cost of every request from now on (the "slowBroker" fault); 1 is normal speed. */
  setSlowFactor(factor: number): void {
    assert(Number.isFinite(factor) && factor > 0, `broker slow factor must be a finite number > 0, got ${factor}`);
    this.slow = factor;
  }

  get slowFactor(): number {
    return this.slow;
  }

  /** Requests handled so far (including those that failed with a broker error). */
  get requestsHandled(): number {
    return this.handled;
  }

  /**
   * Open a connection from `from` to this broker: the client end is `endA` with `clientHandlers`,
   * the server end is served by this server. To a dead broker node the connection is refused.
   */
  accept(from: NodeId | string, clientHandlers: ConnectionHandlers): Connection {
    const session = new Session(this);
    const conn = this.network.connect(from, this.node.id, clientHandlers, session);
    session.conn = conn;
    return conn;
  }

  /**
   * @internal Run `fn` after one request's cost, on the broker node (a crash drops it), but never
   * before a request whose handling started earlier, on any connection: as from Kafka's one
   * request queue, requests take effect in the order they were taken up. Without this, when a
   * slowBroker fault ended, a later request (another connection's, at normal speed) overtook one
   * still in its slow handling: a crashed sink's initTransactions, taken up before the crash, then
   * landed after the next attempt had begun that transaction and aborted its pre-committed records
   * (scenarios/regressions/slow-broker-request-lands-after-restore.json).
   */
  _scheduleRequest(fn: () => void): void {
    const now = this.scheduler.now;
    const at = Math.max(now + this.options.requestCostMs * this.slow, this.lastTakenEffect);
    this.lastTakenEffect = at;
    this.scheduler.at(at, fn, this.node);
  }

  /** @internal Apply a request and build its response. */
  _handle(req: WireRequest): WireResponse {
    this.handled++;
    try {
      return { id: req.id, ok: true, result: execute(this.broker, req) };
    } catch (e) {
      if (e instanceof BrokerError) return { id: req.id, ok: false, error: encodeError(e) };
      throw e;
    }
  }
}

// ---- client --------------------------------------------------------------------------------

export class BrokerClient {
  private readonly conn: Connection;
  /** Outstanding requests by id (insertion order = id order). */
  private readonly pending = new Map<number, AnyCallback>();
  private nextId = 1;
  private brokenError: BrokerError | null = null;
  private closed = false;
  private readonly incarnation: number;

  /**
   * Connect from `fromNode` to the broker server on `brokerNodeId`. `onBroken` is called once if the
   * connection breaks (after every outstanding callback got the error); not after `close()`.
   */
  constructor(
    network: Network,
    private readonly scheduler: Scheduler,
    private readonly fromNode: SimNode,
    readonly brokerNodeId: NodeId | string,
    private readonly onBroken: (err: BrokerError) => void,
  ) {
    assert(fromNode.alive, `a broker client cannot start on dead node ${fromNode.id}`);
    const server = BrokerServer.lookup(network, brokerNodeId);
    assert(server !== undefined, `no broker server runs on node ${brokerNodeId}`);
    this.incarnation = fromNode.incarnation;
    this.conn = server.accept(fromNode.id, {
      onMessage: (payload) => this.onResponse(payload as WireResponse),
      onBreak: (err) => this.fail(new BrokerError(err.code, stripCode(err.message, err.code))),
    });
  }

  /** The error that broke the connection (or closed the client), or null while usable. */
  get error(): BrokerError | null {
    return this.brokenError;
  }

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.pending.size;
  }

  // ---- requests ---------------------------------------------------------------------------

  fetch(topic: string, partition: number, offset: number, maxRecords: number, isolation: Isolation, cb: BrokerCallback<FetchResult>): void {
    this.call("fetch", { topic, partition, offset, maxRecords, isolation }, cb);
  }

  /** A read_uncommitted fetch as parallel arrays: no object per record (what a source needs). */
  fetchValues(topic: string, partition: number, offset: number, maxRecords: number, cb: BrokerCallback<ValuesResult>): void {
    this.call("fetchValues", { topic, partition, offset, maxRecords }, cb);
  }

  /** Per partition of `topic`: the last stable offset (read_committed) or the log end offset. */
  endOffsets(topic: string, isolation: Isolation, cb: BrokerCallback<readonly number[]>): void {
    this.call("endOffsets", { topic, isolation }, cb);
  }

  /** A non-transactional write (the plain sink). */
  append(topic: string, partition: number, records: readonly ProducerRecord[], cb: BrokerCallback<{ baseOffset: number }>): void {
    this.call("append", { topic, partition, records: records.slice() }, cb);
  }

  initTransactions(tid: string, cb: BrokerCallback<{ epoch: number; txnSeq: number }>): void {
    this.call("initTransactions", { tid }, cb);
  }

  write(
    tid: string,
    epoch: number,
    topic: string,
    partition: number,
    records: readonly ProducerRecord[],
    cb: BrokerCallback<{ txnSeq: number; baseOffset: number }>,
  ): void {
    this.call("write", { tid, epoch, topic, partition, records: records.slice() }, cb);
  }

  /**
   * `write` with the records as parallel arrays of values and timestamps (no object per record).
   * Unlike `write` the arrays are not copied: they are handed over, and the caller must not change
   * them afterwards (a sink sends each batch once).
   */
  writeValues(
    tid: string,
    epoch: number,
    topic: string,
    partition: number,
    values: readonly JsonValue[],
    timestamps: readonly number[],
    cb: BrokerCallback<{ txnSeq: number; baseOffset: number }>,
  ): void {
    this.call("writeValues", { tid, epoch, topic, partition, values, timestamps }, cb);
  }

  commit(
    tid: string,
    epoch: number,
    txnSeq: number,
    meta: { checkpointId: number },
    cb: BrokerCallback<{ alreadyCommitted: boolean; nextTxnSeq: number }>,
  ): void {
    this.call("commit", { tid, epoch, txnSeq, checkpointId: meta.checkpointId }, cb);
  }

  abort(tid: string, epoch: number, cb: BrokerCallback<{ abortedTxnSeq: number | null; nextTxnSeq: number }>): void {
    this.call("abort", { tid, epoch }, cb);
  }

  /** A batch of upserts into the table `topic`, applied in order. */
  upsert(topic: string, entries: readonly UpsertEntry[], cb: BrokerCallback<null>): void {
    this.call("upsert", { topic, entries: entries.slice() }, cb);
  }

  commitOffsets(group: string, offsets: readonly TopicPartitionOffset[], checkpointId: number, cb: BrokerCallback<null>): void {
    this.call("commitOffsets", { group, offsets: offsets.slice(), checkpointId }, cb);
  }

  /** The tid's transaction state, or null if it never called initTransactions. */
  currentTxn(tid: string, cb: BrokerCallback<TxnState | null>): void {
    this.call("currentTxn", { tid }, cb);
  }

  /**
   * Close the connection gracefully. Outstanding and later requests fail with ECONNRESET
   * ("client closed"); `onBroken` is not called.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close();
    if (this.brokenError !== null) return;
    const err = new BrokerError("ECONNRESET", "broker client closed");
    this.brokenError = err;
    if (this.pending.size === 0) return;
    const cbs = [...this.pending.values()];
    this.pending.clear();
    this.scheduler.schedule(0, () => {
      for (const cb of cbs) cb(err, undefined);
    }, this.fromNode);
  }

  // ---- internals --------------------------------------------------------------------------

  private call<K extends BrokerOp, T>(op: K, args: BrokerOps[K]["req"], cb: BrokerCallback<T>): void {
    assert(
      this.fromNode.incarnation === this.incarnation,
      `broker client of ${this.fromNode.id} used after its node crashed (incarnation ${this.incarnation})`,
    );
    const anyCb = cb as AnyCallback;
    const err = this.brokenError;
    if (err !== null) {
      this.scheduler.schedule(0, () => anyCb(err, undefined), this.fromNode);
      return;
    }
    const id = this.nextId++;
    const wire = { id, op, args } as WireRequest;
    this.pending.set(id, anyCb);
    // A false send means the connection broke and onBreak is on its way: the request stays
    // outstanding and fails then, as a request on a dead TCP socket does.
    this.conn.endA.send(wire, requestBytes(wire));
  }

  private onResponse(r: WireResponse): void {
    const cb = this.pending.get(r.id);
    if (cb === undefined) assert(false, `broker response ${r.id} matches no outstanding request`);
    this.pending.delete(r.id);
    if (r.ok) cb(null, r.result);
    else cb(decodeError(r.error), undefined);
  }

  private fail(err: BrokerError): void {
    if (this.brokenError !== null) return;
    this.brokenError = err;
    const cbs = [...this.pending.values()];
    this.pending.clear();
    for (const cb of cbs) cb(err, undefined);
    this.onBroken(err);
  }
}

function stripCode(message: string, code: string): string {
  const prefix = `${code}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}
