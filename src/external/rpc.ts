/**
 * Request/response over one reliable simulated connection, with callbacks (no promises: the
 * simulation runs every event synchronously). A broken connection fails the requests sent on it with
 * the network's error (ECONNRESET; ECONNREFUSED or ETIMEDOUT for a connect to a dead node or across a
 * partition, after the network's delay) and the client reconnects on the next request. There is no
 * request timeout: a request on a connection that stays open (e.g. clogged) waits.
 */
import type { Network, Connection, NetError } from "../sim/network.ts";
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

  /** @internal handlers of the server end of a new connection. */
  endHandlers(getConn: () => Connection | undefined): { onMessage(p: unknown): void; onBreak(): void } {
    return {
      onMessage: (p) => {
        if (!this.node.alive) return;
        const req = p as Req;
        this.handler(req.body, (err, result) => {
          const c = getConn();
          if (c !== undefined && c.open) c.endB.send({ rid: req.rid, err, result } satisfies Resp);
        });
      },
      onBreak: () => {},
    };
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
    let conn: Connection | undefined = undefined;
    const serverEnd = this.server.endHandlers(() => conn);
    conn = this.network.connect(
      this.from.id,
      this.server.node.id,
      {
        onMessage: (p) => {
          const resp = p as Resp;
          const pending = this.outstanding.get(resp.rid);
          if (pending === undefined) return;
          this.outstanding.delete(resp.rid);
          pending.cb(resp.err, resp.result);
        },
        onBreak: (e: NetError) => {
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
        },
      },
      serverEnd,
    );
    this.conn = conn;
  }
}
