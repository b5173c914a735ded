import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { tf } from "../../lib/tf";
import { linearVar1 } from "../../lib/diagnostics/linear-var";
import { mseAt, mseAtHorizons } from "../../lib/diagnostics/mse";
import type { SeriesData } from "../../lib/diagnostics/windows";
import { planWindows } from "../../lib/diagnostics/windows";
import { randomSparseVar, simulateVar } from "./helpers";

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/**
 * Tiny case: 2 units, 2 nodes (node 1 is the target), 6 steps; test window [3, 6).
 * unit 0, node 0: 1 2 3 4 5 6;   node 1: 0 1 0 2 0 3
 * unit 1, node 0: 0 0 0 0 0 0;   node 1: 1 1 1 1 1 1
 */
const tiny: SeriesData = {
  units: 2,
  steps: 6,
  nodes: 2,
  roles: ["channel", "target"],
  values: Float32Array.from([1, 0, 2, 1, 3, 0, 4, 2, 5, 0, 6, 3, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
};

describe("MSE@M", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  it("persistence forecaster on the tiny case equals the hand computation", () => {
    // x(t+1) = x(t): every rollout repeats the last history value.
    const f = linearVar1([
      [1, 0],
      [0, 1],
    ]);
    const r = mseAtHorizons(f, tiny, { window: { from: 3, to: 6 }, horizons: [1, 2, 3], history: 2 });
    assert.equal(r.target, 1);
    assert.deepEqual(r.window, { from: 3, to: 6 });
    // M = 1, origins 3, 4, 5. Unit 0 target: last value 0, 2, 0 predicts 2, 0, 3 -> errors 4, 4, 9.
    const m1 = mseAt(r, 1);
    assert.deepEqual(m1.origins, [3, 4, 5]);
    close(m1.perUnitTarget[0], (4 + 4 + 9) / 3, 1e-6, "unit 0 target M=1");
    close(m1.perUnitTarget[1], 0, 1e-6, "unit 1 target M=1");
    close(m1.target, (17 / 3 + 0) / 2, 1e-6, "target M=1");
    // Node 0 unit 0: errors 1, 1, 1; unit 1: 0. All nodes = mean over the two nodes.
    close(m1.perNode[0], (1 + 0) / 2, 1e-6, "node 0 M=1");
    close(m1.perUnitAll[0], (1 + 17 / 3) / 2, 1e-6, "unit 0 all M=1");
    close(m1.allNodes, ((1 + 17 / 3) / 2 + 0) / 2, 1e-6, "all nodes M=1");
    // M = 2, origins 3, 4. Unit 0 target: origin 3 predicts 0 for (2, 0) -> (4 + 0) / 2;
    // origin 4 predicts 2 for (0, 3) -> (4 + 1) / 2. Mean = (2 + 2.5) / 2 = 2.25.
    const m2 = mseAt(r, 2);
    assert.deepEqual(m2.origins, [3, 4]);
    close(m2.perUnitTarget[0], 2.25, 1e-6, "unit 0 target M=2");
    // Node 0 unit 0: origin 3 predicts 3 for (4, 5) -> (1 + 4) / 2 = 2.5 for both origins.
    close(m2.perNode[0], 2.5 / 2, 1e-6, "node 0 M=2");
    // M = 3, origin 3 only: target predicts 0 for (2, 0, 3) -> 13 / 3.
    const m3 = mseAt(r, 3);
    assert.deepEqual(m3.origins, [3]);
    close(m3.perUnitTarget[0], 13 / 3, 1e-6, "unit 0 target M=3");
  });

  it("a zero forecaster's MSE is the mean square of the truth; stride and explicit origins", () => {
    const f = linearVar1([
      [0, 0],
      [0, 0],
    ]);
    const r = mseAtHorizons(f, tiny, { window: { from: 3, to: 6 }, horizons: [1], history: 1, stride: 2 });
    const m = mseAt(r, 1);
    assert.deepEqual(m.origins, [3, 5]);
    close(m.perUnitTarget[0], (4 + 9) / 2, 1e-6, "zero forecaster target");
    close(m.perUnitTarget[1], 1, 1e-6, "unit 1");
    const r2 = mseAtHorizons(f, tiny, { window: { from: 3, to: 6 }, horizons: [1], history: 1, origins: [4], units: [0] });
    assert.deepEqual(r2.units, [0]);
    close(mseAt(r2, 1).target, 0, 1e-6, "origin 4 unit 0");
  });

  it("a horizon longer than the test window gives NaN with a reason", () => {
    const f = linearVar1([
      [1, 0],
      [0, 1],
    ]);
    const r = mseAtHorizons(f, tiny, { window: { from: 3, to: 6 }, horizons: [1, 7], history: 2 });
    const m7 = mseAt(r, 7);
    assert.ok(Number.isNaN(m7.target));
    assert.match(m7.reason ?? "", /o \+ 7 <= 6/);
    assert.throws(() => mseAt(r, 14), /horizon 14 was not computed/);
    assert.throws(() => mseAtHorizons(f, tiny, { window: { from: 3, to: 6 }, horizons: [7], history: 2 }), /no origin/);
  });

  it("the default window is the last 20% and history everything before it; chunking does not change the result", () => {
    const A = randomSparseVar(4, 0.5, 3);
    const data = simulateVar([A], 5, 50, 11);
    const f = linearVar1(A);
    const plan = planWindows(data, {}, { minHistory: 1 });
    assert.deepEqual(plan.window, { from: 40, to: 50 });
    assert.equal(plan.history, 40);
    const before = tf.memory().numTensors;
    const a = mseAtHorizons(f, data, { horizons: [1, 7] });
    const b = mseAtHorizons(f, data, { horizons: [1, 7], chunkRows: 3 });
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    assert.equal(a.target, 3);
    for (const k of [0, 1]) {
      close(a.horizons[k].target, b.horizons[k].target, 1e-9, "chunked target");
      close(a.horizons[k].allNodes, b.horizons[k].allNodes, 1e-9, "chunked all");
    }
    // The true model on unit-variance noise: MSE@1 is about the noise variance 1.
    assert.ok(a.horizons[0].allNodes > 0.5 && a.horizons[0].allNodes < 1.6, `MSE@1 ${a.horizons[0].allNodes}`);
    assert.ok(a.horizons[1].allNodes > a.horizons[0].allNodes, "MSE@7 > MSE@1");
  });

  it("validates the data and the configuration", () => {
    const f = linearVar1([[1]]);
    assert.throws(() => mseAtHorizons(f, tiny, {}), /2 nodes, the forecaster 1/);
    const g = linearVar1([
      [1, 0],
      [0, 1],
    ]);
    assert.throws(() => mseAtHorizons(g, { ...tiny, roles: undefined }, { window: { from: 3, to: 6 } }), /config.target/);
    assert.throws(() => mseAtHorizons(g, tiny, { window: { from: 3, to: 6 }, history: 4, origins: [3] }), /fewer than history = 4/);
    assert.throws(() => mseAtHorizons(g, tiny, { window: { from: 3, to: 6 }, horizons: [0] }), /positive integers/);
    assert.throws(() => mseAtHorizons(g, tiny, { window: { from: 3, to: 9 } }), /test window/);
  });
});
