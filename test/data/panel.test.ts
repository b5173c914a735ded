import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataError } from "../../lib/data/errors";
import {
  type Panel,
  applyScaler,
  at,
  contextKey,
  contextOfUnit,
  describeDegeneracy,
  describeSize,
  distinctGraphs,
  distinctNodeSeries,
  distinctSeries,
  fitScaler,
  graphUnitCount,
  invertScaler,
  lag1Autocorrelation,
  nodeSeries,
  scaleValue,
  sliceSteps,
  splitTime,
  splitUnits,
  subsetUnits,
  unitsOfGroup,
  unscaleValue,
  validatePanel,
} from "../../lib/data/panel";

/** R x T x 3 panel: ch (>= 0), mid, y; value encodes (u, t, i). */
function toy(R = 4, T = 10): Panel {
  const values = new Float32Array(R * T * 3);
  for (let u = 0; u < R; u++) for (let t = 0; t < T; t++) for (let i = 0; i < 3; i++) values[(u * T + t) * 3 + i] = 100 * u + t + i / 10;
  return {
    values,
    units: R,
    steps: T,
    nodes: 3,
    nodeNames: ["ch", "mid", "y"],
    roles: ["channel", "intermediate", "target"],
    unitIds: Array.from({ length: R }, (_, u) => `u${u}`),
    context: { values: Float32Array.from({ length: R }, (_, u) => u / 10), names: ["c"] },
    truth: {
      graphs: [
        [
          [0, 1, 1],
          [0, 0, 1],
          [0, 0, 0],
        ],
        [
          [0, 0, 1],
          [0, 0, 0],
          [0, 0, 0],
        ],
      ],
      graphOfUnit: Array.from({ length: R }, (_, u) => u % 2),
    },
    provenance: { generator: "toy", params: {} },
  };
}

function expectInvalid(p: Panel, column: string | undefined, match: RegExp, opts = {}) {
  assert.throws(
    () => validatePanel(p, opts),
    (e: unknown) => e instanceof DataError && e.file === "<panel toy>" && (column === undefined || e.column === column) && match.test(e.message),
  );
}

describe("validatePanel", () => {
  it("accepts a consistent panel", () => {
    assert.doesNotThrow(() => validatePanel(toy(), { nonNegativeChannels: true, targetIsSink: true }));
  });

  it("rejects inconsistent shapes", () => {
    const p = toy();
    expectInvalid({ ...p, values: p.values.subarray(1) }, undefined, /expected units\*steps\*nodes/);
    expectInvalid({ ...p, roles: ["channel", "target"] }, undefined, /roles has 2 entries/);
    expectInvalid({ ...p, unitIds: ["a", "a", "b", "c"] }, undefined, /unit id "a" appears twice/);
    expectInvalid({ ...p, timeLabels: ["x"] }, undefined, /timeLabels has 1 labels/);
    expectInvalid({ ...p, context: { values: new Float32Array(3), names: ["c"] } }, undefined, /context has 3 values/);
  });

  it("rejects non-finite values, naming the node, unit and step", () => {
    const p = toy();
    const v = p.values.slice();
    v[at(p, 2, 5, 1)] = NaN;
    expectInvalid({ ...p, values: v }, "mid", /unit "u2", step 5/);
  });

  it("rejects bad roles", () => {
    const p = toy();
    expectInvalid({ ...p, roles: ["channel", "target", "target"] }, undefined, /exactly one node must have role "target", found 2/);
    expectInvalid({ ...p, roles: ["channel", "funnel" as never, "target"] }, "mid", /role "funnel"/);
    expectInvalid({ ...p, nodeNames: ["ch", "ch", "y"] }, "ch", /appears twice/);
  });

  it("rejects negative channels when asked", () => {
    const p = toy();
    const v = p.values.slice();
    v[at(p, 1, 3, 0)] = -1;
    expectInvalid({ ...p, values: v }, "ch", /negative spend -1 at unit "u1", step 3/, { nonNegativeChannels: true });
    assert.doesNotThrow(() => validatePanel({ ...p, values: v }));
  });

  it("rejects bad graphs: self-loop, cycle, non-0/1, edge out of the target, bad graphOfUnit", () => {
    const p = toy();
    const withGraph = (g: number[][]) => ({ ...p, truth: { graphs: [g], graphOfUnit: [0, 0, 0, 0] } });
    expectInvalid(
      withGraph([
        [1, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ]),
      "ch",
      /self-loop/,
    );
    expectInvalid(
      withGraph([
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 0],
      ]),
      undefined,
      /cycle/,
    );
    assert.doesNotThrow(() =>
      validatePanel(
        withGraph([
          [0, 1, 0],
          [0, 0, 1],
          [1, 0, 0],
        ]),
        { requireDag: false },
      ),
    );
    expectInvalid(
      withGraph([
        [0, 0.5, 0],
        [0, 0, 0],
        [0, 0, 0],
      ]),
      "ch",
      /expected 0 or 1/,
    );
    expectInvalid(
      withGraph([
        [0, 0, 0],
        [0, 0, 0],
        [1, 0, 0],
      ]),
      "y",
      /edge out of the target/,
      { targetIsSink: true },
    );
    expectInvalid({ ...p, truth: { graphs: p.truth!.graphs, graphOfUnit: [0, 1, 2, 0] } }, undefined, /graphOfUnit\[2\] = 2/);
  });

  it("rejects a panel shorter than the required minimum", () => {
    expectInvalid(toy(2, 5), undefined, /fewer than the required minimum 8/, { minSteps: 8 });
  });
});

describe("splits", () => {
  it("time split by fractions covers every step in order", () => {
    const s = splitTime(200);
    assert.deepEqual([s.train.from, s.train.to, s.validation.from, s.validation.to, s.test.from, s.test.to], [0, 140, 140, 160, 160, 200]);
    const s2 = splitTime(toy(2, 10), { train: 0.5, validation: 0.25, test: 0.25 });
    assert.equal(s2.train.length + s2.validation.length + s2.test.length, 10);
  });

  it("time split by counts", () => {
    const s = splitTime(100, { by: "count", train: 70, validation: 0, test: 30 });
    assert.deepEqual(s.validation, { from: 70, to: 70, length: 0 });
    assert.deepEqual(s.test, { from: 70, to: 100, length: 30 });
    assert.throws(() => splitTime(100, { by: "count", train: 70, validation: 10, test: 10 }), /sum to T/);
    assert.throws(() => splitTime(100, { train: 0.7, validation: 0.2, test: 0.2 }), /sum to 1/);
  });

  it("unit split: seeded, 80/20 by default, disjoint and complete", () => {
    const a = splitUnits(300);
    const b = splitUnits(300);
    assert.deepEqual(a, b);
    assert.equal(a.train.length, 240);
    assert.equal(a.test.length, 60);
    assert.equal(a.config.seed, 100);
    assert.deepEqual(
      [...a.train, ...a.test].sort((x, y) => x - y),
      Array.from({ length: 300 }, (_, k) => k),
    );
    assert.notDeepEqual(splitUnits(300, { seed: 1 }).train, a.train);
    const c = splitUnits(10, { train: 0.6, validation: 0.2, test: 0.2, shuffle: false });
    assert.deepEqual(c.train, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(c.validation, [6, 7]);
  });
});

describe("subsets", () => {
  it("subsetUnits keeps values, context, graphs and records the step", () => {
    const p = toy();
    const s = subsetUnits(p, [3, 1]);
    assert.equal(s.units, 2);
    assert.deepEqual(s.unitIds, ["u3", "u1"]);
    assert.equal(s.values[at(s, 0, 4, 2)], p.values[at(p, 3, 4, 2)]);
    assert.deepEqual(Array.from(s.context!.values), [Math.fround(0.3), Math.fround(0.1)]);
    assert.deepEqual(s.truth!.graphOfUnit, [1, 1]);
    assert.equal(s.truth!.graphs.length, 2);
    assert.deepEqual(s.provenance.history, [{ op: "subsetUnits", args: { units: ["u3", "u1"] } }]);
    assert.equal(p.units, 4, "the original is untouched");
    assert.throws(() => subsetUnits(p, [1, 1]), /twice/);
    assert.throws(() => subsetUnits(p, [4]), /out of range/);
    validatePanel(s);
  });

  it("sliceSteps keeps the window and its time labels", () => {
    const p = { ...toy(), timeLabels: Array.from({ length: 10 }, (_, t) => `w${t}`) };
    const s = sliceSteps(p, 3, 7);
    assert.equal(s.steps, 4);
    assert.deepEqual(s.timeLabels, ["w3", "w4", "w5", "w6"]);
    assert.equal(s.values[at(s, 2, 0, 1)], p.values[at(p, 2, 3, 1)]);
    assert.throws(() => sliceSteps(p, 5, 5), /step range/);
    validatePanel(s);
  });
});

describe("scaler", () => {
  it("is fitted on the training window and units only", () => {
    const p = toy();
    const sc = fitScaler(p, { steps: { from: 0, to: 6 }, units: [0, 1] });
    const q = toy();
    for (let u = 0; u < 4; u++) for (let t = 0; t < 10; t++) if (t >= 6 || u >= 2) q.values[at(q, u, t, 0)] = 1e6;
    assert.deepEqual(fitScaler(q, { steps: { from: 0, to: 6 }, units: [0, 1] }), sc);
  });

  it("standardises the training window to mean 0, SD 1 and inverts", () => {
    const p = toy();
    const sc = fitScaler(p, { steps: { from: 0, to: 6 } });
    const z = applyScaler(p, sc);
    for (let i = 0; i < 3; i++) {
      let s = 0;
      let s2 = 0;
      for (let u = 0; u < 4; u++)
        for (let t = 0; t < 6; t++) {
          s += z.values[at(z, u, t, i)];
          s2 += z.values[at(z, u, t, i)] ** 2;
        }
      assert.ok(Math.abs(s / 24) < 1e-5);
      assert.ok(Math.abs(s2 / 24 - 1) < 1e-4);
    }
    const back = invertScaler(z, sc);
    back.values.forEach((v, k) => assert.ok(Math.abs(v - p.values[k]) <= 1e-4 * Math.max(1, Math.abs(p.values[k]))));
    assert.equal(z.provenance.history?.[0].op, "applyScaler");
    const k = at(p, 1, 2, 2);
    assert.ok(Math.abs(unscaleValue(sc, 2, scaleValue(sc, 2, p.values[k])) - p.values[k]) < 1e-9);
  });

  it("log1p for raw spend; refuses values <= -1", () => {
    const p = toy();
    const sc = fitScaler(p, { log1p: "channels" });
    assert.deepEqual(sc.log1p, [true, false, false]);
    const z = applyScaler(p, sc);
    const back = invertScaler(z, sc);
    back.values.forEach((v, k) => assert.ok(Math.abs(v - p.values[k]) <= 1e-3 * Math.max(1, Math.abs(p.values[k]))));
    const bad = toy();
    bad.values[at(bad, 0, 0, 1)] = -2;
    assert.throws(
      () => fitScaler(bad, { log1p: ["mid"] }),
      (e: unknown) => e instanceof DataError && e.column === "mid" && /log1p/.test(e.message),
    );
  });

  it("scope unit-node fits one mean/SD per unit and looks units up by id", () => {
    const p = toy();
    const sc = fitScaler(p, { scope: "unit-node", steps: { from: 0, to: 5 } });
    assert.equal(sc.mean.length, 4);
    const sub = subsetUnits(p, [2]);
    const z = applyScaler(sub, sc);
    assert.ok(Math.abs(z.values[at(z, 0, 2, 0)]) < 1e-6, "step 2 is the middle of steps 0..4 of unit u2");
    const other = { ...p, unitIds: ["x", "u1", "u2", "u3"] };
    assert.throws(() => applyScaler(other, sc), /not fitted on unit "x"/);
  });
});

describe("degeneracy", () => {
  it("counts distinct series and graphs", () => {
    const p = toy();
    const v = p.values.slice();
    v.copyWithin(at(p, 3, 0, 0), at(p, 1, 0, 0), at(p, 2, 0, 0)); // unit 3 := unit 1
    const d = distinctSeries({ ...p, values: v });
    assert.equal(d.count, 3);
    assert.deepEqual(d.groupOfUnit, [0, 1, 2, 1]);
    assert.deepEqual(distinctGraphs(p).sizes, [2, 2]);
  });

  it("counts distinct series of one node", () => {
    const p = toy();
    const v = p.values.slice();
    for (let u = 1; u < 4; u++) for (let t = 0; t < p.steps; t++) v[at(p, u, t, 1)] = v[at(p, 0, t, 1)]; // node 1 the same in every unit
    v[at(p, 2, 0, 0)] = v[at(p, 3, 0, 0)];
    const q = { ...p, values: v };
    assert.deepEqual(distinctNodeSeries(q, 1).sizes, [4]);
    assert.equal(distinctNodeSeries(q, 0).count, 4, "node 0 differs between units");
    assert.equal(distinctSeries(q).count, 4, "whole series still differ");
    assert.throws(() => distinctNodeSeries(q, 3), /node 3/);
  });
});

describe("describing a panel", () => {
  it("describeSize names R, d and T", () => {
    assert.equal(describeSize(toy(4, 10)), "R = 4, d = 3, T = 10");
  });

  it("nodeSeries reads one node of one unit over the steps", () => {
    const p = toy(3, 5);
    assert.deepEqual(
      nodeSeries(p, 2, 1),
      [0, 1, 2, 3, 4].map((t) => Math.fround(200 + t + 0.1)),
    );
    assert.throws(() => nodeSeries(p, 3, 0), /unit 3 is not in 0..2/);
    assert.throws(() => nodeSeries(p, 0, 3), /node 3 is not in 0..2/);
  });

  it("contextOfUnit and contextKey give a unit's context (a view, and a comparable key)", () => {
    const p = toy();
    const c = contextOfUnit(p, 2);
    assert.deepEqual(Array.from(c), [Math.fround(0.2)]);
    assert.equal(c.buffer, p.context!.values.buffer, "a view, not a copy");
    assert.equal(contextKey(p, 2), String(Math.fround(0.2)));
    const two = { ...p, context: { values: Float32Array.from([1, 2, 3, 4, 1, 2, 5, 6]), names: ["a", "b"] } };
    assert.equal(contextKey(two, 2), "1,2");
    assert.throws(() => contextOfUnit({ ...p, context: undefined }, 0), /no context/);
  });

  it("graphUnitCount counts the units of a true graph", () => {
    const p = toy(5);
    assert.deepEqual(
      [0, 1, 2].map((g) => graphUnitCount(p, g)),
      [3, 2, 0],
    );
    assert.throws(() => graphUnitCount({ ...p, truth: undefined }, 0), /no true graphs/);
  });

  it("lag1Autocorrelation: sum of lagged centred products over the sum of squares", () => {
    assert.equal(lag1Autocorrelation([1, 2, 3, 4]), (0.75 - 0.25 + 0.75) / 5);
    assert.equal(lag1Autocorrelation([1, -1, 1, -1]), -0.75);
    assert.ok(Number.isNaN(lag1Autocorrelation([2, 2, 2])));
  });

  it("unitsOfGroup and describeDegeneracy say how many different units there are", () => {
    const p = toy();
    const v = p.values.slice();
    v.copyWithin(at(p, 3, 0, 0), at(p, 1, 0, 0), at(p, 2, 0, 0)); // unit 3 := unit 1
    const q = { ...p, values: v };
    assert.deepEqual(unitsOfGroup(distinctSeries(q), 1), [1, 3]);
    assert.equal(describeDegeneracy("toy", q), "toy: 4 units, 3 distinct series (units per series: 1, 2, 1), 2 distinct graphs (units per graph: 2, 2)");
    assert.equal(
      describeDegeneracy("all distinct", p),
      "all distinct: 4 units, 4 distinct series (units per series: 1 each), 2 distinct graphs (units per graph: 2, 2)",
    );
  });
});
