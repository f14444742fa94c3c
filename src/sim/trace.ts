/**
 * Structured trace events and the run's fingerprint.
 *
 * Two kinds of events:
 * - `emit` (summary level): every meaningful step (checkpoint triggered/completed/aborted, crash,
 *   restore, commit, fault). Always folded into the rolling hash, recorded unless the level is "off".
 * - `detail` (full level): per-record chatter, recorded only at level "full" and never hashed, so
 *   the fingerprint does not depend on the level a run was recorded at.
 *
 * The hash is a 64-bit FNV-1a (two 32-bit lanes) over a canonical encoding: keys sorted, numbers
 * in JavaScript's shortest round-trip form. The same events give the same hash on every machine.
 */
import { assert } from "./assert.ts";

export type TraceLevel = "off" | "summary" | "full";
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };
export type TraceData = { readonly [k: string]: JsonValue | undefined };
export type TraceEvent = {
  readonly seq: number;
  readonly time: number;
  readonly node: string;
  readonly kind: string;
  readonly level: "summary" | "full";
  readonly data: TraceData;
};

/** Canonical JSON: object keys sorted, undefined fields dropped. Deterministic across machines. */
export function canonicalJson(v: unknown): string {
  switch (typeof v) {
    case "number":
      if (!Number.isFinite(v)) assert(false, `non-finite number in canonical encoding: ${v}`);
      // String(v) is JSON.stringify(v) for a finite number.
      return Object.is(v, -0) ? "0" : String(v);
    case "string":
      // Quoting a string that needs no escaping is JSON.stringify's output, without the call.
      return quoteJson(v);
    case "boolean":
      return v ? "true" : "false";
    case "undefined":
      return "null";
    default:
      break;
  }
  if (v === null) return "null";
  // Loops and concatenation rather than map/filter/join: this is on the trace and commit paths.
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ",";
      out += canonicalJson(v[i]);
    }
    return out + "]";
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  sortKeys(keys);
  let out = "{";
  let first = true;
  for (const k of keys) {
    const x = obj[k];
    if (x === undefined) continue;
    if (!first) out += ",";
    first = false;
    out += quoteJson(k) + ":" + canonicalJson(x);
  }
  return out + "}";
}

/**
 * Sort object keys in place, in Array.prototype.sort's default order (UTF-16 code units). Small
 * arrays (trace data objects) by insertion sort, which allocates nothing; larger ones by sort().
 */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > k; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = k;
  }
}

/** True when JSON.stringify(s) is s in quotes: no quote, backslash, control character or surrogate. */
function plainString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** A string as JSON.stringify writes it (plain strings quoted without its call). */
function quoteJson(s: string): string {
  return plainString(s) ? '"' + s + '"' : JSON.stringify(s);
}

/** Feed `quoteJson(s)` to `h` without building the quoted string. */
function hashString(h: Fnv64, s: string): void {
  if (plainString(s)) h.update('"').update(s).update('"');
  else h.update(JSON.stringify(s));
}

/**
 * Feed `canonicalJson(v)` to `h` piece by piece, without building the string (FNV is fed one
 * character at a time, so the hash is the same as `h.update(canonicalJson(v))`).
 */
export function hashCanonical(h: Fnv64, v: unknown): void {
  switch (typeof v) {
    case "number":
      if (!Number.isFinite(v)) assert(false, `non-finite number in canonical encoding: ${v}`);
      h.update(Object.is(v, -0) ? "0" : String(v));
      return;
    case "string":
      hashString(h, v);
      return;
    case "boolean":
      h.update(v ? "true" : "false");
      return;
    case "undefined":
      h.update("null");
      return;
    default:
      break;
  }
  if (v === null) {
    h.update("null");
    return;
  }
  if (Array.isArray(v)) {
    h.update("[");
    for (let i = 0; i < v.length; i++) {
      if (i > 0) h.update(",");
      hashCanonical(h, v[i]);
    }
    h.update("]");
    return;
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  sortKeys(keys);
  h.update("{");
  let first = true;
  for (const k of keys) {
    const x = obj[k];
    if (x === undefined) continue;
    if (!first) h.update(",");
    first = false;
    hashCanonical(h, k);
    h.update(":");
    hashCanonical(h, x);
  }
  h.update("}");
}

/** A 64-bit FNV-1a over a string, as two 32-bit lanes; used for the trace hash and digests. */
export class Fnv64 {
  /** The two lanes; public only for this module's streamed hashing (`hashJson`): treat as private. */
  h1 = 0x811c9dc5 | 0;
  h2 = 0xcbf29ce4 | 0;
  update(s: string): this {
    let a = this.h1;
    let b = this.h2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15);
    }
    this.h1 = a;
    this.h2 = b;
    return this;
  }
  hex(): string {
    return hex8(this.h1) + hex8(this.h2);
  }
}

/** Byte -> two lowercase hex digits. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A 32-bit lane as 8 lowercase hex digits (what `(x >>> 0).toString(16).padStart(8, "0")` gives). */
function hex8(x: number): string {
  return (
    (HEX_BYTE[(x >>> 24) & 0xff] as string) +
    (HEX_BYTE[(x >>> 16) & 0xff] as string) +
    (HEX_BYTE[(x >>> 8) & 0xff] as string) +
    (HEX_BYTE[x & 0xff] as string)
  );
}

/**
 * Feed `JSON.stringify(v)` to `h` without building the string: plain objects (keys in
 * JSON.stringify's order), strings that need no escaping, finite numbers, booleans and null are
 * fed piece by piece; anything else (arrays, escapes, toJSON, other prototypes, deep nesting) as
 * JSON.stringify's own output. Same bytes, so the same hash, and the same errors.
 *
 * This runs for every record a transaction writes, so it is written for speed: the two lanes live
 * in module variables (`laneA`, `laneB`) while a value is fed, punctuation is fed as one character
 * without a call to `update`, 32-bit integers are fed digit by digit without `String`, a plain
 * string is checked and fed in one pass, and object keys are walked with for-in (own keys in
 * Object.keys order: the prototype is Object.prototype or null, neither with enumerable keys).
 */
export function hashJson(h: Fnv64, v: unknown): void {
  // Saved and restored, so a getter or toJSON that hashes (re-entrancy) cannot disturb this call.
  const savedA = laneA;
  const savedB = laneB;
  laneA = h.h1;
  laneB = h.h2;
  try {
    feedJson(v, 0);
    h.h1 = laneA;
    h.h2 = laneB;
  } finally {
    laneA = savedA;
    laneB = savedB;
  }
}

/** `hashJson(h, v)` then a newline: one record of `recordsDigest`. */
export function hashJsonLine(h: Fnv64, v: unknown): void {
  hashJson(h, v);
  h.h1 = Math.imul(h.h1 ^ 0x0a, FNV_PRIME);
  h.h2 = Math.imul(h.h2 ^ 0x0a, FNV_PRIME) ^ (h.h1 >>> 15);
}

/** `hashJsonLine(h, v)` for every value in order (the lanes are taken and stored once). */
export function hashJsonLines(h: Fnv64, values: readonly unknown[]): void {
  const savedA = laneA;
  const savedB = laneB;
  laneA = h.h1;
  laneB = h.h2;
  try {
    for (let i = 0; i < values.length; i++) {
      feedJson(values[i], 0);
      feedChar(0x0a);
    }
    h.h1 = laneA;
    h.h2 = laneB;
  } finally {
    laneA = savedA;
    laneB = savedB;
  }
}

const FNV_PRIME = 0x01000193;
/** The lanes of the Fnv64 being fed by `hashJson` (see there). */
let laneA = 0;
let laneB = 0;

/** Feed one UTF-16 code unit. */
function feedChar(c: number): void {
  const a = Math.imul(laneA ^ c, FNV_PRIME);
  laneB = Math.imul(laneB ^ c, FNV_PRIME) ^ (a >>> 15);
  laneA = a;
}

/** Feed a string's code units (as Fnv64.update). */
function feedString(s: string): void {
  let a = laneA;
  let b = laneB;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, FNV_PRIME);
    b = Math.imul(b ^ c, FNV_PRIME) ^ (a >>> 15);
  }
  laneA = a;
  laneB = b;
}

/** Feed `quoteJson(s)`: a plain string quoted in one pass, anything else as JSON.stringify writes it. */
function feedQuoted(s: string): void {
  let a = Math.imul(laneA ^ 0x22, FNV_PRIME);
  let b = Math.imul(laneB ^ 0x22, FNV_PRIME) ^ (a >>> 15);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
      // Needs escaping: nothing was stored yet, feed JSON.stringify's output instead.
      feedString(JSON.stringify(s));
      return;
    }
    a = Math.imul(a ^ c, FNV_PRIME);
    b = Math.imul(b ^ c, FNV_PRIME) ^ (a >>> 15);
  }
  a = Math.imul(a ^ 0x22, FNV_PRIME);
  laneB = Math.imul(b ^ 0x22, FNV_PRIME) ^ (a >>> 15);
  laneA = a;
}

/** Decimal digits of an integer being fed, least significant first. */
const DIGITS = new Int32Array(10);

/** Feed `String(v)` for a finite number, digit by digit for a 32-bit integer. */
function feedNumber(v: number): void {
  if ((v | 0) !== v) {
    feedString(String(v));
    return;
  }
  // -0 | 0 is 0 and String(-0) is "0"; -2^31 negated is 2^31, still exact as a double.
  let x = v;
  if (x < 0) {
    feedChar(0x2d);
    x = -x;
  }
  let n = 0;
  do {
    const q = Math.floor(x / 10);
    DIGITS[n++] = x - q * 10;
    x = q;
  } while (x !== 0);
  let a = laneA;
  let b = laneB;
  while (n > 0) {
    const c = 0x30 + (DIGITS[--n] as number);
    a = Math.imul(a ^ c, FNV_PRIME);
    b = Math.imul(b ^ c, FNV_PRIME) ^ (a >>> 15);
  }
  laneA = a;
  laneB = b;
}

function feedJson(v: unknown, depth: number): void {
  switch (typeof v) {
    case "number":
      if (Number.isFinite(v)) feedNumber(v);
      else feedString("null");
      return;
    case "string":
      feedQuoted(v);
      return;
    case "boolean":
      feedString(v ? "true" : "false");
      return;
    default:
      break;
  }
  if (v === null) {
    feedString("null");
    return;
  }
  const proto: unknown = typeof v === "object" ? Object.getPrototypeOf(v) : undefined;
  const obj = v as Record<string, unknown>;
  if (depth >= 32 || (proto !== Object.prototype && proto !== null) || typeof obj["toJSON"] === "function") {
    feedString(JSON.stringify(v) as string);
    return;
  }
  feedChar(0x7b); // {
  let first = true;
  for (const k in obj) {
    const x = obj[k];
    const t = typeof x;
    if (t === "undefined" || t === "function" || t === "symbol") continue;
    if (!first) feedChar(0x2c); // ,
    first = false;
    feedQuoted(k);
    feedChar(0x3a); // :
    feedJson(x, depth + 1);
  }
  feedChar(0x7d); // }
}

/**
 * Digest of records in order, each by `JSON.stringify` (native, fast). Deterministic for values
 * built by the same code (key order is insertion order); use `digest` to compare values that
 * different code may have built.
 */
export function recordsDigest(values: readonly unknown[], into: Fnv64 = new Fnv64()): Fnv64 {
  hashJsonLines(into, values);
  return into;
}

/** Digest of a value's canonical JSON (fed piece by piece: same hash, no big string). */
export function digest(v: unknown): string {
  const h = new Fnv64();
  hashCanonical(h, v);
  return h.hex();
}

export type TraceOptions = {
  /** What is recorded: "off" keeps only the hash, "summary" the meaningful steps, "full" everything. */
  readonly level: TraceLevel;
  /** Bound on recorded events; beyond it events are still hashed but no longer stored. */
  readonly maxRecordedEvents: number;
};

export const defaultTraceOptions: TraceOptions = { level: "summary", maxRecordedEvents: 2_000_000 };

export class Trace {
  private readonly hasher = new Fnv64();
  private readonly recorded: TraceEvent[] = [];
  private seq = 0;
  private hashedCount = 0;
  private dropped = 0;
  private readonly listeners: Array<(e: TraceEvent) => void> = [];
  readonly options: TraceOptions;

  constructor(
    private readonly clock: { readonly now: number },
    options: Partial<TraceOptions> = {},
  ) {
    this.options = { ...defaultTraceOptions, ...options };
  }

  get level(): TraceLevel {
    return this.options.level;
  }

  /** A meaningful step: hashed, and recorded unless the level is "off". */
  emit(node: string, kind: string, data: TraceData = {}): void {
    const time = this.clock.now;
    // Same bytes as `${time}|${node}|${kind}|${canonicalJson(data)}\n`, fed without building them.
    const h = this.hasher;
    h.update(String(time)).update("|").update(node).update("|").update(kind).update("|");
    hashCanonical(h, data);
    h.update("\n");
    this.hashedCount++;
    const e: TraceEvent = { seq: this.seq++, time, node, kind, level: "summary", data };
    for (const l of this.listeners) l(e);
    if (this.options.level !== "off") this.record(e);
  }

  /** Per-record detail: recorded only at level "full", never hashed. */
  detail(node: string, kind: string, data: TraceData = {}): void {
    if (this.options.level !== "full") return;
    this.record({ seq: this.seq++, time: this.clock.now, node, kind, level: "full", data });
  }

  /** Whether `detail` records anything (lets hot paths skip building the data object). */
  get detailed(): boolean {
    return this.options.level === "full";
  }

  /** Observe summary events as they happen (checkers, fault triggers). */
  subscribe(listener: (e: TraceEvent) => void): void {
    this.listeners.push(listener);
  }

  private record(e: TraceEvent): void {
    if (this.recorded.length < this.options.maxRecordedEvents) this.recorded.push(e);
    else this.dropped++;
  }

  /** The run's fingerprint: 16 hex digits over every summary event so far. */
  hash(): string {
    return this.hasher.hex();
  }
  events(): readonly TraceEvent[] {
    return this.recorded;
  }
  get hashedEvents(): number {
    return this.hashedCount;
  }
  get droppedEvents(): number {
    return this.dropped;
  }
}
