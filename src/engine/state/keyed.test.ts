import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Value } from "../plan/functions.ts";
import { KeyedStateBackend } from "./keyed.ts";

describe("KeyedStateBackend", () => {
  test("state is per key and per name, and a handle follows the current key", () => {
    const b = new KeyedStateBackend();
    const v = b.valueState<number>("v");
    const l = b.listState<number>("l");
    b.currentKey = "a";
    v.update(1);
    l.add(10);
    l.add(11);
    b.currentKey = "b";
    expect(v.value()).toBeUndefined();
    expect(l.get()).toEqual([]);
    v.update(2);
    b.currentKey = "a";
    expect(v.value()).toBe(1);
    expect(l.get()).toEqual([10, 11]);
    v.clear();
    expect(v.value()).toBeUndefined();
    expect(b.entries("op")).toEqual([
      { vertex: "op", key: "a", state: { l: [10, 11] } },
      { vertex: "op", key: "b", state: { v: 2 } },
    ]);
  });

  test("merge sets the current key's value from the previous one (undefined for a new key) and returns it", () => {
    const b = new KeyedStateBackend();
    const s = b.valueState<number>("sum");
    const add = (prev: number | undefined, v: unknown): number => (prev ?? 0) + (v as number);
    b.currentKey = "a";
    expect(s.merge(2, add)).toBe(2);
    expect(s.merge(3, add)).toBe(5);
    b.currentKey = "b";
    expect(s.merge(1, add)).toBe(1);
    expect(s.value()).toBe(1);
    b.currentKey = "a";
    expect(s.value()).toBe(5);
    expect(() =>
      s.merge(0, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(s.value()).toBe(5);
    b.currentKey = "c";
    expect(() =>
      s.merge(0, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(b.entries("op").map((e) => e.key)).toEqual(["a", "b"]);
  });

  test("two handles of one name share the state", () => {
    const b = new KeyedStateBackend();
    b.currentKey = "k";
    b.valueState<string>("x").update("one");
    expect(b.valueState<string>("x").value()).toBe("one");
  });

  test("a snapshot lists keys sorted, each key's state names sorted, and copies the values", () => {
    const b = new KeyedStateBackend();
    const z = b.valueState<{ n: number }>("z");
    const m = b.mapState<number>("m");
    const live = { n: 1 };
    b.currentKey = "k2";
    z.update(live);
    m.put("y", 2);
    m.put("x", 1);
    b.currentKey = "k1";
    z.update({ n: 3 });
    b.registerEventTimer(5);
    const snap = b.snapshot();
    live.n = 99;
    expect(snap.state).toEqual([
      ["k1", [["z", "value", { n: 3 }]]],
      ["k2", [["m", "map", { x: 1, y: 2 }], ["z", "value", { n: 1 }]]],
    ]);
    expect(Object.keys((snap.state[1]?.[1][0]?.[2] ?? {}) as object)).toEqual(["x", "y"]);
    expect(snap.eventTimers).toEqual([{ ts: 5, key: "k1" }]);
  });

  test("a snapshot's copy of a value is what a JSON round trip gives, key order included, never the live object", () => {
    const odd = fc.constantFrom<unknown>(-0, Number.NaN, Number.POSITIVE_INFINITY, { u: undefined, n: null }, { 2: "b", 1: "a", z: 0 }, JSON.parse('{"__proto__": 1, "a": 2}'), { a: -0 }, { a: [1, { b: 2 }] }, { toJSON: (): string => "custom" });
    const value = fc.oneof(fc.jsonValue(), odd, fc.dictionary(fc.string(), fc.oneof(fc.jsonValue({ maxDepth: 0 }), odd), { maxKeys: 4 }));
    fc.assert(
      fc.property(value, (v) => {
        const b = new KeyedStateBackend();
        b.currentKey = "k";
        b.valueState<Value>("v").update(v as Value);
        const copied = (b.snapshot().state[0]?.[1][0]?.[2] ?? null) as unknown;
        const expected = JSON.parse(JSON.stringify(v)) as unknown;
        expect(copied).toEqual(expected);
        expect(JSON.stringify(copied)).toBe(JSON.stringify(expected));
        if (typeof copied === "object" && copied !== null) {
          expect(copied).not.toBe(v);
          expect(Object.getPrototypeOf(copied)).toBe(Object.getPrototypeOf(expected));
          expect(Object.keys(copied)).toEqual(Object.keys(expected as object));
        }
      }),
      { numRuns: 300 },
    );
  });

  test("restore replaces all state and timers, and handles made before the restore see the restored state", () => {
    const src = new KeyedStateBackend();
    src.currentKey = "a";
    src.valueState<number>("v").update(7);
    src.mapState<number>("m").put("p", 1);
    src.listState<number>("l").add(3);
    src.registerProcessingTimer(9);
    const snap = JSON.parse(JSON.stringify(src.snapshot())) as ReturnType<KeyedStateBackend["snapshot"]>;

    const dst = new KeyedStateBackend();
    const v = dst.valueState<number>("v");
    dst.currentKey = "old";
    v.update(1);
    dst.registerEventTimer(1);
    dst.restore(snap);
    expect(v.value()).toBeUndefined();
    dst.currentKey = "a";
    expect(v.value()).toBe(7);
    expect(dst.mapState<number>("m").get("p")).toBe(1);
    expect(dst.listState<number>("l").get()).toEqual([3]);
    expect(dst.eventTimerCount).toBe(0);
    expect(dst.processingTimerList()).toEqual([{ ts: 9, key: "a" }]);
    expect(dst.snapshot()).toEqual(src.snapshot());
  });

  test("emptied list and map state leaves no key behind", () => {
    const b = new KeyedStateBackend();
    const l = b.listState<number>("l");
    const m = b.mapState<number>("m");
    b.currentKey = "k";
    l.add(1);
    m.put("a", 1);
    l.update([]);
    m.remove("a");
    expect(m.isEmpty()).toBe(true);
    expect(b.snapshot().state).toEqual([]);
    expect(b.entries("op")).toEqual([]);
  });
});
