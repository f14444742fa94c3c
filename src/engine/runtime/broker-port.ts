/** Adapts the broker client to the narrow port the connectors use. */
import type { BrokerClient } from "../../external/broker-client.ts";
import type { JsonValue } from "../../sim/trace.ts";
import type { BrokerErr, BrokerPort, FetchedValues } from "./connectors.ts";

const e = (err: { code: string; message: string } | null): BrokerErr | null =>
  err === null ? null : { code: err.code, message: err.message };

type Cb = (err: BrokerErr | null) => void;
type Records = Array<{ value: JsonValue; ts: number }>;

/**
 * A class rather than an object of closures: one is made per source and sink at every deployment,
 * and a class's methods are shared where closures would be made anew each time.
 */
class BrokerClientPort implements BrokerPort {
  constructor(private readonly c: BrokerClient) {}
  endOffsets(topic: string, cb: (err: BrokerErr | null, ends?: readonly number[]) => void): void {
    this.c.endOffsets(topic, "read_uncommitted", (err, r) => cb(e(err), r ?? undefined));
  }
  fetch(topic: string, p: number, off: number, max: number, cb: (err: BrokerErr | null, res?: FetchedValues) => void): void {
    this.c.fetchValues(topic, p, off, max, (err, r) => cb(e(err), r));
  }
  append(topic: string, p: number, records: Records, cb: Cb): void {
    this.c.append(topic, p, records, (err, _r) => cb(e(err)));
  }
  upsert(topic: string, entries: Array<{ key: string; value: JsonValue }>, cb: Cb): void {
    this.c.upsert(topic, entries, (err, _r) => cb(e(err)));
  }
  initTransactions(tid: string, cb: (err: BrokerErr | null, res?: { epoch: number; txnSeq: number }) => void): void {
    this.c.initTransactions(tid, (err, r) => cb(e(err), r ?? undefined));
  }
  write(tid: string, epoch: number, topic: string, p: number, values: JsonValue[], timestamps: number[], cb: Cb): void {
    this.c.writeValues(tid, epoch, topic, p, values, timestamps, (err, _r) => cb(e(err)));
  }
  commit(tid: string, epoch: number, txnSeq: number, checkpointId: number, cb: Cb): void {
    this.c.commit(tid, epoch, txnSeq, { checkpointId }, (err, _r) => cb(e(err)));
  }
  commitOffsets(group: string, offsets: Array<{ topic: string; partition: number; offset: number }>, id: number, cb: Cb): void {
    this.c.commitOffsets(group, offsets, id, (err, _r) => cb(e(err)));
  }
  close(): void {
    this.c.close();
  }
}

export function brokerPort(c: BrokerClient): BrokerPort {
  return new BrokerClientPort(c);
}
