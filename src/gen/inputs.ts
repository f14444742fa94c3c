/**
 * Generated job input: the partitions of every topic a plan's sources read.
 *
 * Records are `{ key, value }` with keys from a skewed distribution ("k0" most frequent .. "k7"),
 * small integer values, and event timestamps that grow per partition with bounded disorder: a
 * record's timestamp is never below (largest timestamp so far in its partition - the source's
 * outOfOrdernessMs), so no record is late under per-partition watermarks.
 *
 * The arbitrary draws one flat list of raw records, each naming its topic and partition by a small
 * integer, so shrinking removes records and moves them toward topic 0, partition 0, key "k0".
 */
import fc from "fast-check";
import type { InputRecord, Inputs, Plan, SourceNode } from "../engine/plan/plan.ts";

export type InputsArbOptions = {
  /** Most records over all topics (default 200). */
  readonly maxRecords?: number;
  /** Most partitions per topic (1..16, default 4). */
  readonly maxPartitions?: number;
  /** Most event-time advance between consecutive records of a partition, in ms (default 20). */
  readonly gapMsMax?: number;
  /** Largest |value| (default 20). */
  readonly valueAbsMax?: number;
};

/** Relative frequency of "k0" .. "k7". */
export const KEY_WEIGHTS: readonly number[] = [32, 16, 8, 6, 4, 3, 2, 1];
const KEY_WEIGHT_TOTAL = KEY_WEIGHTS.reduce((a, b) => a + b, 0);
/** Largest disorder a raw record can ask for; clamped to the source's outOfOrdernessMs. */
const JITTER_MS_MAX = 50;

export type RawRecord = {
  readonly topic: number;
  readonly partition: number;
  /** Index into the cumulative key weights (0 = "k0"). */
  readonly key: number;
  readonly value: number;
  readonly gapMs: number;
  readonly jitterMs: number;
};

export type RawInputs = {
  /** Partition count per topic index (topics beyond the list get 1). */
  readonly partitions: readonly number[];
  readonly records: readonly RawRecord[];
};

export function validateInputsArbOptions(o: InputsArbOptions): string | undefined {
  const int = (v: number | undefined, name: string, min: number, max: number): string | undefined =>
    v === undefined || (Number.isInteger(v) && v >= min && v <= max)
      ? undefined
      : `inputsArb options.${name} must be an integer in [${min}, ${max}], got ${v}`;
  return (
    int(o.maxRecords, "maxRecords", 0, 100_000) ??
    int(o.maxPartitions, "maxPartitions", 1, 16) ??
    int(o.gapMsMax, "gapMsMax", 0, 100_000) ??
    int(o.valueAbsMax, "valueAbsMax", 0, 1_000_000)
  );
}

export function keyName(weightIndex: number): string {
  let acc = 0;
  for (let k = 0; k < KEY_WEIGHTS.length; k++) {
    acc += KEY_WEIGHTS[k] as number;
    if (weightIndex < acc) return `k${k}`;
  }
  return `k${KEY_WEIGHTS.length - 1}`;
}

/** Raw inputs for up to `topics` topics, independent of any plan (see `buildInputs`). */
export function rawInputsArb(topics: number, options: InputsArbOptions = {}): fc.Arbitrary<RawInputs> {
  const problem = validateInputsArbOptions(options);
  if (problem !== undefined) throw new RangeError(problem);
  if (!(Number.isInteger(topics) && topics >= 1)) throw new RangeError(`rawInputsArb topics must be an integer >= 1, got ${topics}`);
  const maxPartitions = options.maxPartitions ?? 4;
  const valueAbsMax = options.valueAbsMax ?? 20;
  const record = fc.record({
    topic: fc.integer({ min: 0, max: topics - 1 }),
    partition: fc.integer({ min: 0, max: maxPartitions - 1 }),
    key: fc.integer({ min: 0, max: KEY_WEIGHT_TOTAL - 1 }),
    value: fc.integer({ min: -valueAbsMax, max: valueAbsMax }),
    gapMs: fc.integer({ min: 0, max: options.gapMsMax ?? 20 }),
    jitterMs: fc.integer({ min: 0, max: JITTER_MS_MAX }),
  });
  return fc.record({
    partitions: fc.array(fc.integer({ min: 1, max: maxPartitions }), { minLength: topics, maxLength: topics }),
    records: fc.array(record, { maxLength: options.maxRecords ?? 200, size: "max" }),
  });
}

/**
 * The inputs of a plan from raw records: topic index i is the i-th source's topic (indices wrap),
 * partition indices wrap to the topic's partition count, and timestamps are
 * max(0, base - jitter) where base is the partition's running sum of gaps and jitter is at most the
 * source's outOfOrdernessMs.
 */
export function buildInputs(raw: RawInputs, plan: Plan): Inputs {
  const sources = plan.nodes.filter((n): n is SourceNode => n.kind === "source");
  // Several sources may read one topic: the smallest bound is the one every reader honours.
  const topics: string[] = [];
  const bound = new Map<string, number>();
  for (const s of sources) {
    const ooo = s.watermark?.outOfOrdernessMs ?? 0;
    if (!bound.has(s.topic)) topics.push(s.topic);
    bound.set(s.topic, Math.min(bound.get(s.topic) ?? ooo, ooo));
  }
  if (topics.length === 0) return [];
  const parts: InputRecord[][][] = topics.map((_, t) => {
    const n = Math.max(1, raw.partitions[t] ?? 1);
    return Array.from({ length: n }, () => []);
  });
  const bases: number[][] = parts.map((ps) => ps.map(() => 0));
  for (const r of raw.records) {
    const t = r.topic % topics.length;
    const ps = parts[t] as InputRecord[][];
    const p = r.partition % ps.length;
    const ooo = Math.floor(bound.get(topics[t] as string) ?? 0);
    const base = ((bases[t] as number[])[p] as number) + r.gapMs;
    (bases[t] as number[])[p] = base;
    const ts = Math.max(0, base - (r.jitterMs % (ooo + 1)));
    (ps[p] as InputRecord[]).push({ value: { key: keyName(r.key), value: r.value }, ts });
  }
  return topics.map((topic, t) => ({ topic, partitions: parts[t] as InputRecord[][] }));
}

/** Inputs for every source topic of `plan`; shrinks toward fewer records. */
export function inputsArb(plan: Plan, options: InputsArbOptions = {}): fc.Arbitrary<Inputs> {
  const topics = new Set(plan.nodes.filter((n) => n.kind === "source").map((n) => (n as SourceNode).topic)).size;
  return rawInputsArb(Math.max(1, topics), options).map((raw) => buildInputs(raw, plan));
}
