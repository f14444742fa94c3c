import { describe, expect, test } from "vitest";
import { Random } from "../../sim/random.ts";
import { Simulation } from "../../sim/simulation.ts";
import { OutputChannel, type BacklogCount } from "./channels.ts";
import { REC, type Element } from "./graph.ts";

const rec = (v: number): Element => ({ k: REC, v, ts: v });

describe("OutputChannel backlog count", () => {
  test("the shared count is the number of channels with buffers waiting for credit, through seal, requeue and pump", () => {
    const sim = new Simulation({ seed: 1 });
    sim.addNode("a");
    sim.addNode("b");
    const count: BacklogCount = { n: 0 };
    const chans = [0, 1, 2].map((i) => {
      const c = new OutputChannel(`c${i}`, count);
      c.conn = sim.network.connect("a", "b", { onMessage: () => {}, onBreak: () => {} }, { onMessage: () => {}, onBreak: () => {} });
      return c;
    });
    const r = Random.fromSeed("channels");
    for (let step = 0; step < 400; step++) {
      const c = r.pick(chans);
      const op = r.int(0, 3);
      if (op === 0) {
        c.add(rec(step));
        c.seal();
      } else if (op === 1) c.requeue([rec(step)]);
      else if (op === 2) c.credits += r.int(0, 2);
      else c.pump();
      expect(count.n).toBe(chans.filter((x) => x.backlog > 0).length);
    }
  });
});

describe("OutputChannel buffers", () => {
  test("each sealed buffer holds exactly the elements added since the last seal, whatever the sizes before", () => {
    const c = new OutputChannel("c");
    let v = 0;
    const sizes = [3, 5, 1, 0, 4, 4, 2, 7];
    const expected: Element[][] = [];
    for (const n of sizes) {
      const batch: Element[] = [];
      for (let i = 0; i < n; i++) {
        const e = rec(v++);
        batch.push(e);
        expect(c.add(e)).toBe(i + 1);
      }
      expect(c.buffered).toBe(n);
      expect(c.inflight()).toEqual([...expected.flat(), ...batch]);
      c.seal();
      expect(c.buffered).toBe(0);
      if (n > 0) expected.push(batch);
    }
    expect(c.queue).toEqual(expected);
    for (const b of c.queue) expect(Object.keys(b).length).toBe(b.length);
    expect(JSON.stringify(c.queue)).not.toContain("null");
  });
});
