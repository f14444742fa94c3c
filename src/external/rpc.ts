/**
 * Request/response over one reliable simulated connection, with callbacks (no promises: the
 * simulation runs every event synchronously). A broken connection fails the requests sent on it with
 * the network's error (ECONNRESET; ECONNREFUSED or ETIMEDOUT for a connect to a dead node or across a
 * partition, after the network's delay) and the client reconnects on the next request. There is no
 * request timeout: a request on a connection that stays open (e.g. clogged) waits.
 */
import type { Network, Connection, ConnectionHandlers, NetError } from "../sim/network.ts";
import type { Scheduler, SimNode } from "../sim/scheduler.ts";

export type RpcError = { readonly code: string; readonly message: string };
export type RpcCallback<R> = (err: RpcError | null, result?: R) => void;

type Req = { readonly rid: number; readonly body: unknown };
type Resp = { readonly rid: number; readonly err: RpcError | null; readonly result: unknown };
/** A request waiting for its response, with the connection it was sent on. */
type Pending = { readonly conn: Connection; readonly cb: RpcCallback<unknown> };

/** Server side: `handle(body, reply)`; replies go back on the same connection in any order. */
export type RpcHandler = (body: unknown, reply: (err: RpcError | null, result?: unknown) => void) => void;

export class RpcServer {
  constructor(
    readonly node: SimNode,
    private readonly handler: RpcHandler,
  ) {}

  /** @internal the handlers of the server end of a new connection (`conn` set once connected). */
  newEnd(): ServerEnd {
    return new ServerEnd(this.node, this.handler);
  }
}

/** A request's reply function (made by a function: see pumpOf in src/sim/network.ts). */
function replyOf(end: ServerEnd, rid: number): (err: RpcError | null, result?: unknown) => void {
  return (err, result) => end.reply(rid, err, result);
}

/** The server end of one connection (a class, not an object of closures: one allocation per connection). */
class ServerEnd implements ConnectionHandlers {
  conn: Connection | undefined = undefined;
  constructor(
    private readonly node: SimNode,
    private readonly handler: RpcHandler,
  ) {}

  onMessage(p: unknown): void {
    if (!this.node.alive) return;
    const req = p as Req;
    this.handler(req.body, replyOf(this, req.rid));
  }

  onBreak(): void {}

  reply(rid: number, err: RpcError | null, result: unknown): void {
    const c = this.conn;
    if (c !== undefined && c.open) c.endB.send({ rid, err, result } satisfies Resp);
  }
}

/** The client end of one connection. */
class ClientEnd implements ConnectionHandlers {
  conn: Connection | undefined = undefined;
  constructor(private readonly client: RpcClient) {}
  onMessage(p: unknown): void {
    this.client._response(p as Resp);
  }
  onBreak(e: NetError): void {
    this.client._broken(this.conn as Connection, e);
  }
}

export class RpcClient {
  private conn: Connection | undefined;
  private nextRid = 1;
  private readonly outstanding = new Map<number, Pending>();

  constructor(
    private readonly network: Network,
    private readonly scheduler: Scheduler,
    private readonly from: SimNode,
    private readonly server: RpcServer,
    /** Called once per broken connection (after outstanding requests failed). */
    private readonly onBroken?: (err: RpcError) => void,
  ) {}

  call<R>(body: unknown, cb: RpcCallback<R>): void {
    if (!this.from.alive) return;
    if (this.conn === undefined || !this.conn.open) this.open();
    const c = this.conn as Connection;
    const rid = this.nextRid++;
    this.outstanding.set(rid, { conn: c, cb: cb as RpcCallback<unknown> });
    // On a connection created broken (peer dead, or a partition) nothing is sent: the network
    // reports the break to this live node after its delay, and onBreak fails the request then.
    c.endA.send({ rid, body } satisfies Req);
  }

  /** Graceful close: the callbacks of outstanding requests are dropped, never called. */
  close(): void {
    this.conn?.close();
    this.conn = undefined;
    this.outstanding.clear();
  }

  private open(): void {
    const clientEnd = new ClientEnd(this);
    const serverEnd = this.server.newEnd();
    const conn = this.network.connect(this.from.id, this.server.node.id, clientEnd, serverEnd);
    clientEnd.conn = conn;
    serverEnd.conn = conn;
    this.conn = conn;
  }

  /** @internal A response came on one of this client's connections. */
  _response(resp: Resp): void {
    const pending = this.outstanding.get(resp.rid);
    if (pending === undefined) return;
    this.outstanding.delete(resp.rid);
    pending.cb(resp.err, resp.result);
  }

  /** @internal The connection `conn` broke. */
  _broken(conn: Connection, e: NetError): void {
    if (this.conn === conn) this.conn = undefined;
    const err = { code: e.code, message: e.message };
    // Only the requests sent on this connection: a newer one may be open and working.
    const failed: Array<RpcCallback<unknown>> = [];
    for (const [rid, p] of [...this.outstanding]) {
      if (p.conn !== conn) continue;
      this.outstanding.delete(rid);
      failed.push(p.cb);
    }
    for (const cb of failed) cb(err, undefined);
    this.onBroken?.(err);
  }
}
