import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AssertionFailure } from "./assert.ts";
import { Fnv64, Trace, canonicalJson, digest, hashCanonical, hashJson, recordsDigest } from "./trace.ts";
import type { TraceEvent, TraceLevel } from "./trace.ts";

/** Nested JSON-like values with awkward strings and numbers (escapes, lone surrogates, -0, exponents); `undefined` too if asked. */
function jsonLike(withUndefined: boolean): fc.Arbitrary<unknown> {
  const odd = fc.constantFrom("", "a\"b", "back\\slash", "nl\n", "\u0001", "\u2028", "\ud800", "\udc00x", "\ud83d\ude00", "é", -0, 1e21, 5e-7);
  return fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.string({ unit: "binary" }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      ...(withUndefined ? [fc.constant(undefined)] : []),
      odd,
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string({ unit: "binary" }), odd.map(String)), tie("v"), { maxKeys: 4 }),
    ),
  })).v;
}

/** A fixed sequence of emits and details, at a clock the caller moves. */
function record(level: TraceLevel, withDetails: boolean): Trace {
  const clock = { now: 0 };
  const t = new Trace(clock, { level });
  t.emit("jm", "checkpoint.triggered", { id: 1 });
  if (withDetails) t.detail("tm-0", "record", { key: "k", value: 3 });
  clock.now = 12.5;
  t.emit("tm-0", "checkpoint.ack", { id: 1, bytes: 2048, nested: { b: [1, 2], a: null } });
  if (withDetails) t.detail("tm-1", "record", { key: "q" });
  clock.now = 40;
  t.emit("jm", "checkpoint.completed", { id: 1 });
  return t;
}

describe("canonicalJson", () => {
  test("sorts object keys at every depth and drops undefined fields", () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  test("encodes scalars like JSON, -0 as 0, and undefined array members as null", () => {
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson("a\"b")).toBe('"a\\"b"');
    expect(canonicalJson(0.1)).toBe("0.1");
    expect(canonicalJson(-0)).toBe("0");
    expect(canonicalJson([1, undefined, "x"])).toBe('[1,null,"x"]');
  });

  test("is JSON.stringify of the value with keys sorted (escapes, surrogates, -0 and odd keys included)", () => {
    // Reference: JSON.stringify of each piece, keys sorted by the default sort (integer-like keys too).
    const ref = (v: unknown): string => {
      if (Array.isArray(v)) return "[" + v.map((x) => (x === undefined ? "null" : ref(x))).join(",") + "]";
      if (v !== null && typeof v === "object") {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o)
          .sort()
          .filter((k) => o[k] !== undefined);
        return "{" + keys.map((k) => JSON.stringify(k) + ":" + ref(o[k])).join(",") + "}";
      }
      return JSON.stringify(Object.is(v, -0) ? 0 : v);
    };
    const value = jsonLike(false);
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(ref(v));
      }),
      { numRuns: 150 },
    );
  });

  test("a non-finite number asserts", () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(AssertionFailure);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(AssertionFailure);
  });

  test("digest does not depend on key order and differs for different values", () => {
    expect(digest({ a: 1, b: [2, 3] })).toBe(digest({ b: [2, 3], a: 1 }));
    expect(digest({ a: 1 })).not.toBe(digest({ a: 2 }));
    expect(digest({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });

  test("hashCanonical hashes exactly the bytes of canonicalJson, escapes and -0 included", () => {
    const value = jsonLike(true);
    fc.assert(
      fc.property(value, (v) => {
        const h = new Fnv64();
        hashCanonical(h, v);
        expect(h.hex()).toBe(new Fnv64().update(canonicalJson(v)).hex());
      }),
      { numRuns: 200 },
    );
  });

  test("hashJson hashes exactly the bytes of JSON.stringify (key order, escapes, nesting, odd values)", () => {
    const odd = fc.constantFrom<unknown>(-0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, "a\"b", "\ud83d\ude00", "\udc00", { toJSON: (): string => "custom" }, [undefined, 1], { u: undefined, n: null }, { 2: "b", 1: "a", z: 0 }, Object.create(null) as object);
    const value = fc.oneof(fc.jsonValue(), odd, fc.dictionary(fc.string({ unit: "binary" }), fc.oneof(fc.jsonValue(), odd), { maxKeys: 4 }));
    fc.assert(
      fc.property(value, (v) => {
        const h = new Fnv64();
        hashJson(h, v);
        expect(h.hex()).toBe(new Fnv64().update(JSON.stringify(v)).hex());
      }),
      { numRuns: 200 },
    );
    const values = [{ key: "k1", value: 3 }, [1, "x"], "s", null];
    expect(recordsDigest(values).hex()).toBe(new Fnv64().update(values.map((v) => `${JSON.stringify(v)}\n`).join("")).hex());
  });

  test("hashJson feeds integers at the 32-bit edges, fractions and nested plain objects as JSON.stringify writes them", () => {
    const edges = [0, -0, 7, -7, 9, 10, 99, 100, 2147483647, -2147483647, -2147483648, 2147483648, -2147483649, 4294967296, 1.5, -0.25, 1e21, 1e-7, Number.MAX_SAFE_INTEGER];
    const v = { ints: edges.map((n) => ({ n })), nested: { a: { b: { c: -1 } }, "q\"k": 3, "": 0 } };
    for (const x of [...edges, v]) {
      const h = new Fnv64();
      hashJson(h, x);
      expect(h.hex()).toBe(new Fnv64().update(JSON.stringify(x)).hex());
    }
  });

  test("hashJson called again from inside a value (a getter) does not disturb the outer digest", () => {
    const inner = new Fnv64();
    const v = {
      a: 1,
      get b(): number {
        hashJson(inner, { x: "y" });
        return 2;
      },
    };
    const h = new Fnv64();
    hashJson(h, v);
    expect(h.hex()).toBe(new Fnv64().update(JSON.stringify({ a: 1, b: 2 })).hex());
    expect(inner.hex()).toBe(new Fnv64().update('{"x":"y"}').hex());
  });

  test("Fnv64 of the empty string is its offset basis and updates are incremental", () => {
    expect(new Fnv64().hex()).toBe("811c9dc5cbf29ce4");
    expect(new Fnv64().update("ab").update("cd").hex()).toBe(new Fnv64().update("abcd").hex());
    expect(new Fnv64().update("ab").hex()).not.toBe(new Fnv64().update("ba").hex());
  });

  test("hex is both lanes as 8 zero-padded lowercase hex digits each", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const h = new Fnv64().update(s);
        const lanes = h as unknown as { h1: number; h2: number };
        const expected = (lanes.h1 >>> 0).toString(16).padStart(8, "0") + (lanes.h2 >>> 0).toString(16).padStart(8, "0");
        expect(h.hex()).toBe(expected);
      }),
      { numRuns: 300 },
    );
    const edge = new Fnv64() as unknown as { h1: number; h2: number; hex(): string };
    edge.h1 = 0;
    edge.h2 = -1;
    expect(edge.hex()).toBe("00000000ffffffff");
    edge.h1 = 0x0a0b0c0d;
    edge.h2 = -0x80000000;
    expect(edge.hex()).toBe("0a0b0c0d80000000");
  });
});

describe("Trace", () => {
  test("the hash is the same at every level for the same emits", () => {
    const off = record("off", true).hash();
    expect(record("summary", true).hash()).toBe(off);
    expect(record("full", true).hash()).toBe(off);
  });

  test("detail events are not hashed", () => {
    expect(record("full", true).hash()).toBe(record("full", false).hash());
  });

  test("levels decide what is recorded: off nothing, summary the emits, full emits and details", () => {
    expect(record("off", true).events()).toEqual([]);
    const summary = record("summary", true).events();
    expect(summary.map((e) => e.kind)).toEqual(["checkpoint.triggered", "checkpoint.ack", "checkpoint.completed"]);
    expect(summary.every((e) => e.level === "summary")).toBe(true);
    const full = record("full", true).events();
    expect(full.map((e) => `${e.level}:${e.kind}@${e.time}`)).toEqual([
      "summary:checkpoint.triggered@0",
      "full:record@0",
      "summary:checkpoint.ack@12.5",
      "full:record@12.5",
      "summary:checkpoint.completed@40",
    ]);
    expect(full.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(record("full", true).detailed).toBe(true);
    expect(record("summary", true).detailed).toBe(false);
  });

  test("the hash does not depend on the key order of event data", () => {
    const a = new Trace({ now: 1 });
    a.emit("n", "k", { x: 1, y: 2 });
    const b = new Trace({ now: 1 });
    b.emit("n", "k", { y: 2, x: 1 });
    expect(a.hash()).toBe(b.hash());
  });

  test("different events give different hashes", () => {
    const base = (): Trace => new Trace({ now: 5 });
    const variants: Array<(t: Trace) => void> = [
      () => undefined,
      (t) => t.emit("n", "k", { x: 1 }),
      (t) => t.emit("n", "k", { x: 2 }),
      (t) => t.emit("m", "k", { x: 1 }),
      (t) => t.emit("n", "j", { x: 1 }),
      (t) => t.emit("n", "k", {}),
      (t) => {
        t.emit("n", "k", { x: 1 });
        t.emit("n", "k", { x: 1 });
      },
      (t) => {
        t.emit("a", "k");
        t.emit("b", "k");
      },
      (t) => {
        t.emit("b", "k");
        t.emit("a", "k");
      },
    ];
    const hashes = variants.map((v) => {
      const t = base();
      v(t);
      return t.hash();
    });
    expect(new Set(hashes).size).toBe(variants.length);
  });

  test("the same event at a different time gives a different hash", () => {
    const clock = { now: 1 };
    const a = new Trace(clock);
    a.emit("n", "k");
    clock.now = 2;
    const b = new Trace(clock);
    b.emit("n", "k");
    expect(a.hash()).not.toBe(b.hash());
  });

  test("beyond maxRecordedEvents events are still hashed but no longer stored", () => {
    const capped = new Trace({ now: 0 }, { maxRecordedEvents: 2 });
    const open = new Trace({ now: 0 });
    for (let i = 0; i < 5; i++) {
      capped.emit("n", "k", { i });
      open.emit("n", "k", { i });
    }
    expect(capped.events().length).toBe(2);
    expect(capped.droppedEvents).toBe(3);
    expect(capped.hashedEvents).toBe(5);
    expect(capped.hash()).toBe(open.hash());
  });

  test("subscribers see every summary event, at every level, and no details", () => {
    const t = new Trace({ now: 0 }, { level: "off" });
    const seen: TraceEvent[] = [];
    t.subscribe((e) => seen.push(e));
    t.emit("n", "a", { v: 1 });
    t.detail("n", "d");
    t.emit("n", "b");
    expect(seen.map((e) => e.kind)).toEqual(["a", "b"]);
    expect(seen[0]?.data).toEqual({ v: 1 });
  });
});
