/** Adapts the broker client to the narrow port the connectors use. */
import type { BrokerClient } from "../../external/broker-client.ts";
import type { BrokerErr, BrokerPort } from "./connectors.ts";

export function brokerPort(c: BrokerClient): BrokerPort {
  const e = (err: { code: string; message: string } | null): BrokerErr | null =>
    err === null ? null : { code: err.code, message: err.message };
  return {
    endOffsets: (topic, cb) => c.endOffsets(topic, "read_uncommitted", (err, r) => cb(e(err), r ?? undefined)),
    fetch: (topic, p, off, max, cb) =>
      c.fetch(topic, p, off, max, "read_uncommitted", (err, r) => cb(e(err), r === undefined ? undefined : { records: r.records })),
    append: (topic, p, records, cb) => c.append(topic, p, records, (err, _r) => cb(e(err))),
    upsert: (topic, entries, cb) => c.upsert(topic, entries, (err, _r) => cb(e(err))),
    initTransactions: (tid, cb) => c.initTransactions(tid, (err, r) => cb(e(err), r ?? undefined)),
    write: (tid, epoch, topic, p, records, cb) => c.write(tid, epoch, topic, p, records, (err, _r) => cb(e(err))),
    commit: (tid, epoch, txnSeq, checkpointId, cb) => c.commit(tid, epoch, txnSeq, { checkpointId }, (err, _r) => cb(e(err))),
    commitOffsets: (group, offsets, id, cb) => c.commitOffsets(group, offsets, id, (err, _r) => cb(e(err))),
    close: () => c.close(),
  };
}
