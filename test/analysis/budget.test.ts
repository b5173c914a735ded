import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { tf } from "../../lib/tf";
import { Rng } from "../../lib/rng";
import { applyScaler, fitScaler, type Panel } from "../../lib/data/panel";
import type { ForecastInputs, Forecaster, RolloutFeed } from "../../lib/core/forecaster";
import { LinearVarForecaster } from "../../lib/diagnostics/linear-var";
import type { SeriesData } from "../../lib/diagnostics/windows";
import {
  allocationResponse,
  allocationResponses,
  budgetFromForecaster,
  optimiseBudget,
  projectCappedSimplex,
  responseCurve,
  scalerScale,
} from "../../lib/analysis/budget";
import { simulateVar } from "../diagnostics/helpers";

const sum = (a: readonly number[]) => a.reduce((s, v) => s + v, 0);
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
const closeAll = (a: readonly number[], b: readonly number[], tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((v, k) => close(v, b[k], tol, `${what}[${k}]`));
};

// ---------------------------------------------------------------------------------------------
// Projection
// ---------------------------------------------------------------------------------------------

/** Reference projection by bisection on lambda (200 halvings: exact to rounding). */
function bisectProjection(y: number[], total: number, lo: number[], hi: number[]): number[] {
  const f = (lam: number) => sum(y.map((v, k) => Math.min(hi[k], Math.max(lo[k], v - lam))));
  let a = Math.min(...y.map((v, k) => v - (Number.isFinite(hi[k]) ? hi[k] : lo[k] + 1e6))) - 1;
  let b = Math.max(...y.map((v, k) => v - lo[k])) + 1;
  for (let i = 0; i < 200; i++) {
    const m = (a + b) / 2;
    if (f(m) > total) a = m;
    else b = m;
  }
  const lam = (a + b) / 2;
  return y.map((v, k) => Math.min(hi[k], Math.max(lo[k], v - lam)));
}

describe("projectCappedSimplex", () => {
  it("known answers: simplex, capped simplex, mixed bounds, unbounded side", () => {
    closeAll(projectCappedSimplex([0.5, 0.5, 0], 1), [0.5, 0.5, 0], 1e-15, "already feasible");
    closeAll(projectCappedSimplex([1, 1, 1], 1), [1 / 3, 1 / 3, 1 / 3], 1e-15, "equal shift");
    closeAll(projectCappedSimplex([2, 0], 1), [1, 0], 1e-15, "vertex");
    closeAll(projectCappedSimplex([3, 1, 0], 2, 0, 1), [1, 1, 0], 1e-15, "capped");
    // lambda = 0.1: x1 free, x2 at its upper bound, x3 at its lower bound.
    closeAll(projectCappedSimplex([0.2, 0.9, -0.5], 1, [0, 0, 0.3], [1, 0.6, 1]), [0.1, 0.6, 0.3], 1e-12, "mixed bounds");
    // lambda left of every breakpoint: only the uncapped coordinate is free.
    closeAll(projectCappedSimplex([0, 0], 5, 0, [1, Infinity]), [1, 4], 1e-12, "uncapped takes the rest");
    closeAll(projectCappedSimplex([-5, -5], 4), [2, 2], 1e-12, "far below");
    closeAll(projectCappedSimplex([7], 3), [3], 0, "one coordinate");
    // Lower bounds summing to the total: the one feasible point.
    closeAll(projectCappedSimplex([4, -4], 2, [1, 1]), [1, 1], 0, "single point");
  });

  it("random cases: equals the bisection reference, sum and bounds exact, projection property, idempotent", () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + rng.int(8);
      const y = Array.from({ length: n }, () => rng.range(-5, 5));
      const lo = Array.from({ length: n }, () => (rng.bernoulli(0.5) ? 0 : rng.range(-1, 1)));
      const hi = lo.map((l) => (rng.bernoulli(0.3) ? Infinity : l + rng.range(0, 3)));
      const sLo = sum(lo);
      const sHi = hi.some((h) => h === Infinity) ? sLo + 10 : sum(hi);
      const total = sLo + rng.uniform() * (sHi - sLo);
      const x = projectCappedSimplex(y, total, lo, hi);
      const ref = bisectProjection(y, total, lo, hi);
      closeAll(x, ref, 1e-9, `trial ${trial} vs bisection`);
      close(sum(x), total, 1e-12 * Math.max(1, Math.abs(total)) * 10, `trial ${trial} sum`);
      x.forEach((v, k) => assert.ok(v >= lo[k] && v <= hi[k], `trial ${trial}: x[${k}] = ${v} outside [${lo[k]}, ${hi[k]}]`));
      // Projection property: (y - x) . (w - x) <= 0 for every feasible w.
      for (let s = 0; s < 5; s++) {
        const w = projectCappedSimplex(
          Array.from({ length: n }, () => rng.range(-10, 10)),
          total,
          lo,
          hi,
        );
        const dot = sum(y.map((v, k) => (v - x[k]) * (w[k] - x[k])));
        assert.ok(dot <= 1e-9, `trial ${trial}: (y - x).(w - x) = ${dot} > 0`);
      }
      closeAll(projectCappedSimplex(x, total, lo, hi), x, 1e-12, `trial ${trial} idempotent`);
    }
  });

  it("errors name what is wrong", () => {
    assert.throws(() => projectCappedSimplex([1, 2], 1, [1, 1]), /lower bounds sum to 2, more than the total 1/);
    assert.throws(() => projectCappedSimplex([1, 2], 3, 0, 1), /upper bounds sum to 2, less than the total 3/);
    assert.throws(() => projectCappedSimplex([1, 2], 1, [0, 1], [1, 0.5]), /upper\[1\] = 0.5 is below lower\[1\] = 1/);
    assert.throws(() => projectCappedSimplex([1, 2], 1, [0, 0, 0]), /lower has 3 entries, expected 2/);
    assert.throws(() => projectCappedSimplex([1, NaN], 1), /y\[1\] = NaN is not finite/);
  });
});

// ---------------------------------------------------------------------------------------------
// Optimiser
// ---------------------------------------------------------------------------------------------

/** sum_c w_c log(1 + x_c) and its gradient. */
const logUtility = (w: number[]) => (x: number[]) => sum(x.map((v, k) => w[k] * Math.log1p(v)));
const logGradient = (w: number[]) => (x: number[]) => x.map((v, k) => w[k] / (1 + v));

/** Hill curve a * x^k / (x^k + g^k) (concave on x >= 0 for k <= 1). */
const hill = (a: number, g: number, k: number) => (x: number) => (x <= 0 ? 0 : (a * x ** k) / (x ** k + g ** k));

function assertFeasible(x: number[], total: number, lo: number[], hi: number[], what: string): void {
  close(sum(x), total, 1e-9 * Math.max(1, total), `${what}: sum`);
  x.forEach((v, k) => assert.ok(v >= lo[k] && v <= hi[k], `${what}: x[${k}] = ${v} outside [${lo[k]}, ${hi[k]}]`));
}

describe("optimiseBudget", () => {
  it("water-filling: sum w log(1 + x) reaches the analytic optimum, with a channel at its lower bound", () => {
    // KKT: w_c / (1 + x_c) = nu on active channels; active {2, 3}: nu = 6/5, x = (0, 2/3, 7/3).
    const w = [1, 2, 4];
    const r = optimiseBudget(logUtility(w), 3, { total: 3 });
    assert.equal(r.converged, true, `stop: ${r.stopReason}, stationarity ${r.stationarity}`);
    assert.equal(r.stopReason, "stationary");
    closeAll(r.allocation, [0, 2 / 3, 7 / 3], 1e-5, "allocation");
    close(r.value, logUtility(w)([0, 2 / 3, 7 / 3]), 1e-9, "value");
    assertFeasible(r.allocation, 3, [0, 0, 0], [Infinity, Infinity, Infinity], "water-filling");
    assert.ok(r.history.length === r.iterations + 1 && r.history.every((h, k) => k === 0 || h.value >= r.history[k - 1].value), "the value never decreases");
  });

  it("water-filling with an upper bound active, from a vertex start, with the analytic gradient", () => {
    // x3 capped at 1.5; the rest 1.5 over channels 1, 2: nu = 6/7, x = (1/6, 4/3, 1.5).
    const w = [1, 2, 4];
    const upper = [Infinity, Infinity, 1.5];
    const expected = [1 / 6, 4 / 3, 1.5];
    const fd = optimiseBudget(logUtility(w), 3, { total: 3, upper, start: [3, 0, 0] });
    const an = optimiseBudget(logUtility(w), 3, { total: 3, upper, start: [3, 0, 0], gradient: logGradient(w) });
    for (const [name, r] of [
      ["finite differences", fd],
      ["analytic", an],
    ] as const) {
      assert.equal(r.converged, true, `${name}: ${r.stopReason}`);
      closeAll(r.allocation, expected, 1e-5, name);
      assertFeasible(r.allocation, 3, [0, 0, 0], upper, name);
      assert.equal(r.allocation[2], 1.5, `${name}: the capped channel sits exactly on its bound`);
    }
    assert.ok(an.evaluations < fd.evaluations, `analytic gradient needs fewer evaluations (${an.evaluations} vs ${fd.evaluations})`);
  });

  it("two Hill curves: the optimum of a fine grid", () => {
    const h1 = hill(3, 2, 1);
    const h2 = hill(2, 0.5, 0.8);
    const B = 4;
    const f = (x: number[]) => h1(x[0]) + h2(x[1]);
    let best = -Infinity;
    let bestX = 0;
    const steps = 400000;
    for (let i = 0; i <= steps; i++) {
      const x1 = (B * i) / steps;
      const v = h1(x1) + h2(B - x1);
      if (v > best) {
        best = v;
        bestX = x1;
      }
    }
    assert.ok(bestX > 0.2 && bestX < B - 0.2, `the optimum is interior (${bestX})`);
    const r = optimiseBudget(f, 2, { total: B });
    assert.equal(r.converged, true, r.stopReason);
    closeAll(r.allocation, [bestX, B - bestX], 1e-4, "allocation");
    assert.ok(r.value >= best - 1e-10, `value ${r.value} below the grid optimum ${best}`);
    assertFeasible(r.allocation, B, [0, 0], [Infinity, Infinity], "hill");
  });

  it("a linear objective ends at the vertex allowed by the bounds; lower bounds are kept", () => {
    const r = optimiseBudget((x) => 3 * x[0] + 2 * x[1] + x[2], 3, { total: 10, lower: [0, 1, 2], upper: [4, 5, 10] });
    assert.equal(r.converged, true, r.stopReason);
    closeAll(r.allocation, [4, 4, 2], 1e-9, "allocation");
    assertFeasible(r.allocation, 10, [0, 1, 2], [4, 5, 10], "linear");
  });

  it("a feasible set of one point and a single channel", () => {
    const r = optimiseBudget((x) => -sum(x.map((v) => v * v)), 2, { total: 2, lower: [1, 1] });
    assert.deepEqual(r.allocation, [1, 1]);
    assert.equal(r.converged, true);
    const one = optimiseBudget((x) => Math.log1p(x[0]), 1, { total: 5 });
    assert.deepEqual(one.allocation, [5]);
  });

  it("stops at maxIter without claiming convergence", () => {
    const r = optimiseBudget(logUtility([1, 2, 4]), 3, { total: 3, maxIter: 1 });
    assert.equal(r.iterations, 1);
    assert.equal(r.converged, false);
    assert.equal(r.stopReason, "maxIter");
  });

  it("errors: negative total, infeasible bounds, bad start, non-finite objective", () => {
    const f = logUtility([1, 1]);
    assert.throws(() => optimiseBudget(f, 2, { total: -1 }), /optimiseBudget: total must be a finite number >= 0, got -1/);
    assert.throws(() => optimiseBudget(f, 2, { total: 1, lower: [1, 1] }), /infeasible bounds: the lower bounds sum to 2, more than the total 1/);
    assert.throws(() => optimiseBudget(f, 2, { total: 5, upper: 2 }), /infeasible bounds: the upper bounds sum to 4, less than the total 5/);
    assert.throws(() => optimiseBudget(f, 2, { total: 1, start: [1] }), /start has 1 entries, expected 2/);
    assert.throws(() => optimiseBudget(() => NaN, 2, { total: 1 }), /the objective is NaN/);
  });
});

// ---------------------------------------------------------------------------------------------
// Response curves on hand-built linear VARs
// ---------------------------------------------------------------------------------------------

const value = (d: SeriesData, u: number, t: number, i: number) => d.values[(u * d.steps + t) * d.nodes + i];
const WIN = { window: { from: 30, to: 40 }, history: 6, origins: [30, 31, 33] };

/**
 * Model A: nodes [c0, c1, y]; y(t + 1) = a y(t) + b c0(t); c1 drives nothing; channels have
 * their own autoregression (irrelevant: they are fed).
 */
const a = 0.6;
const b = 0.5;
const WA = [
  [
    [0.3, 0, b],
    [0, 0.5, 0],
    [0, 0, a],
  ],
];

/**
 * Closed-form response of model A in one window: the target predictions of steps o .. o + L - 1,
 * summed, when c0 is `c0(t)` over the rollout (y(o) = a y(o - 1) + b c0(o - 1) from the history).
 */
function responseA(d: SeriesData, u: number, o: number, L: number, c0: (t: number) => number): number {
  let y = a * value(d, u, o - 1, 2) + b * value(d, u, o - 1, 0);
  let s = y;
  for (let h = 1; h < L; h++) {
    y = a * y + b * c0(o + h - 1);
    s += y;
  }
  return s;
}

/** Mean over units of the mean over origins. */
function meanWindows(units: number[], origins: number[], f: (u: number, o: number) => number): { mean: number; perUnit: number[] } {
  const perUnit = units.map((u) => sum(origins.map((o) => f(u, o))) / origins.length);
  return { mean: sum(perUnit) / perUnit.length, perUnit };
}

/**
 * Analytic slope of the measured target in the spend of `channel` (per step over the horizon)
 * for a linear VAR whose `fed` nodes are fed: the summed impulse response over L = H + C steps.
 * in[t] holds the input deviations of step o + t (0 before o); out[h] the prediction deviation.
 */
function analyticSlope(W: number[][][], channel: number, fed: number[], target: number, H: number, C: number): number {
  const L = H + C;
  const N = W[0].length;
  const lags = W.length;
  const inputs: number[][] = [];
  let total = 0;
  for (let h = 0; h < L; h++) {
    const pred = new Array<number>(N).fill(0);
    for (let s = 0; s < lags; s++) {
      const t = h - 1 - s; // prediction of step o + h reads inputs of steps o + h - 1 - s
      if (t < 0) continue;
      for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) pred[i] += inputs[t][j] * W[s][j][i];
    }
    total += pred[target];
    inputs.push(pred.map((v, i) => (fed.includes(i) ? (i === channel && h < H ? 1 : 0) : v)));
  }
  return total;
}

describe("responseCurve (linear VARs, analytic answers)", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  const dataA = simulateVar(WA, 2, 40, 3); // roles: c0, c1 channels, y target
  const fA = new LinearVarForecaster({ weights: WA });

  it("model A: the curve equals the closed-form rollout at every level, per unit, with carry-over, for others observed and last", () => {
    const H = 4;
    const levels = [-1, 0, 0.5, 2];
    for (const others of ["observed", "last"] as const) {
      for (const carryover of [0, 2]) {
        const L = H + carryover;
        const curve = responseCurve(fA, dataA, { ...WIN, channel: "n0", levels, horizon: H, carryover, others });
        assert.equal(curve.channel, 0);
        assert.deepEqual(curve.units, [0, 1]);
        assert.deepEqual(curve.origins, WIN.origins);
        // After the horizon, c0 follows the others rule.
        const held = (u: number, o: number) => (t: number) => (others === "observed" ? value(dataA, u, t, 0) : value(dataA, u, o - 1, 0));
        levels.forEach((lv, p) => {
          const ref = meanWindows([0, 1], WIN.origins, (u, o) => responseA(dataA, u, o, L, (t) => (t < o + H ? lv : held(u, o)(t))));
          close(curve.response[p], ref.mean, 1e-4, `${others}, C=${carryover}, level ${lv}`);
          curve.perUnit.forEach((row, ui) => close(row[p], ref.perUnit[ui], 1e-4, `${others}, C=${carryover}, unit ${ui}, level ${lv}`));
        });
        const base = meanWindows([0, 1], WIN.origins, (u, o) => responseA(dataA, u, o, L, (t) => (t < o + H ? value(dataA, u, t, 0) : held(u, o)(t))));
        close(curve.baseline.response, base.mean, 1e-4, `${others}, C=${carryover}: baseline`);
        const spend = meanWindows([0, 1], WIN.origins, (u, o) => sum([0, 1, 2, 3].map((h) => value(dataA, u, o + h, 0))) / H);
        close(curve.baseline.spend, spend.mean, 1e-6, "baseline spend");
        // Closed-form slope: sum_k b (1 - a^(L - 1 - k)) / (1 - a) over the H spend steps.
        const slope = sum(Array.from({ length: H }, (_, k) => (b * (1 - a ** Math.max(0, L - 1 - k))) / (1 - a)));
        close((curve.response[3] - curve.response[0]) / 3, slope, 1e-4, `${others}, C=${carryover}: slope`);
      }
    }
  });

  it("model A: the last horizon step's spend reaches the target only with carry-over", () => {
    // Changing only the spend of step o + H - 1 (multipliers act per step; here: levels vs a curve with H - 1 steps).
    const c4 = responseCurve(fA, dataA, { ...WIN, channel: 0, levels: [0, 1], horizon: 4 });
    const c3 = responseCurve(fA, dataA, { ...WIN, channel: 0, levels: [0, 1], horizon: 3, carryover: 1 });
    // Same 4 measured steps; spend at step o + 3 differs (level vs observed) but is never read.
    const slope4 = c4.response[1] - c4.response[0];
    const slope3 = c3.response[1] - c3.response[0];
    close(slope4, slope3, 1e-4, "H = 4 vs H = 3 + carryover 1");
    // With one carry-over step the 4th spend step counts: it adds b to the slope (same 5 measured steps).
    const c41 = responseCurve(fA, dataA, { ...WIN, channel: 0, levels: [0, 1], horizon: 4, carryover: 1 });
    const c32 = responseCurve(fA, dataA, { ...WIN, channel: 0, levels: [0, 1], horizon: 3, carryover: 2 });
    close(c41.response[1] - c41.response[0] - (c32.response[1] - c32.response[0]), b, 1e-4, "the 4th step's spend with carry-over");
  });

  it("model A: multipliers scale the observed spend; multiplier 1 is the baseline; a channel without a path gives a flat curve", () => {
    const H = 5;
    const m = responseCurve(fA, dataA, { ...WIN, channel: 0, multipliers: [0, 1, 2], horizon: H });
    close(m.response[1], m.baseline.response, 1e-5, "multiplier 1 = baseline");
    close(m.spend[1], m.baseline.spend, 1e-6, "spend at multiplier 1");
    close(m.spend[2], 2 * m.baseline.spend, 1e-5, "spend at multiplier 2");
    const ref0 = meanWindows([0, 1], WIN.origins, (u, o) => responseA(dataA, u, o, H, (t) => (t < o + H ? 0 : value(dataA, u, t, 0))));
    close(m.response[0], ref0.mean, 1e-4, "multiplier 0");
    // Linear model: the response is linear in the multiplier.
    close(m.response[2] - m.response[1], m.response[1] - m.response[0], 1e-4, "linear in the multiplier");

    const flat = responseCurve(fA, dataA, { ...WIN, channel: "n1", levels: [-3, 0, 5], horizon: H });
    for (const v of flat.response) close(v, flat.baseline.response, 1e-5, "flat curve");
    for (const row of flat.perUnit) for (const v of row) assert.ok(Number.isFinite(v));
    assert.ok(Math.abs(m.response[2] - m.response[0]) > 1, "the curve of the channel with a path is not flat");
  });

  // Model B: two lags, c0 -> y directly and through the intermediate m; c1 -> c0 only (cut by
  // the intervention, which feeds every channel), so c1 has no path to y.
  const WB = [
    [
      [0.3, 0, 0.3, 0.5],
      [0.7, 0.4, 0, 0],
      [0, 0, 0.5, 0.4],
      [0, 0, 0, 0.6],
    ],
    [
      [0, 0, 0, 0.2],
      [0, 0, 0, 0],
      [0, 0, 0.1, 0],
      [0, 0, 0, -0.2],
    ],
  ];
  const dataB: SeriesData = {
    ...simulateVar(WB, 3, 40, 8),
    roles: ["channel", "channel", "intermediate", "target"],
    nodeNames: ["tv", "radio", "visits", "sales"],
  };
  const fB = new LinearVarForecaster({ weights: WB });

  it("model B (two lags, a mediated path): slopes equal the summed impulse response; the channel whose only edge goes into another channel is flat", () => {
    for (const [H, C] of [
      [3, 0],
      [5, 3],
    ]) {
      const tv = responseCurve(fB, dataB, { ...WIN, channel: "tv", levels: [0, 1, 3], horizon: H, carryover: C });
      const slope = analyticSlope(WB, 0, [0, 1], 3, H, C);
      assert.ok(slope > 0.5, `the analytic slope is substantial (${slope})`);
      close(tv.response[1] - tv.response[0], slope, 1e-4, `H=${H}, C=${C}: slope`);
      close(tv.response[2] - tv.response[0], 3 * slope, 1e-4, `H=${H}, C=${C}: linear`);
      // Chunking the rows (2 per forecaster call) changes nothing; "mean" divides by H + C.
      const chunked = responseCurve(fB, dataB, { ...WIN, channel: "tv", levels: [0, 1, 3], horizon: H, carryover: C, chunkRows: 2 });
      closeAll(chunked.response, tv.response, 1e-9, "chunked");
      chunked.perUnit.forEach((row, u) => closeAll(row, tv.perUnit[u], 1e-9, `chunked unit ${u}`));
      const mean = responseCurve(fB, dataB, { ...WIN, channel: "tv", levels: [0, 1, 3], horizon: H, carryover: C, measure: "mean" });
      closeAll(
        mean.response,
        tv.response.map((v) => v / (H + C)),
        1e-6,
        "mean",
      );
      tv.perUnit.forEach((row, u) => close(row[2] - row[0], 3 * slope, 1e-4, `unit ${u}`));
      const radio = responseCurve(fB, dataB, { ...WIN, channel: "radio", levels: [-2, 0, 4], horizon: H, carryover: C });
      assert.equal(analyticSlope(WB, 1, [0, 1], 3, H, C), 0);
      for (const v of radio.response) close(v, radio.baseline.response, 1e-5, "radio flat");
      // Without feeding tv (only radio a channel), radio reaches sales through tv: the curve is not flat.
      const open = responseCurve(fB, dataB, { ...WIN, channel: "radio", levels: [0, 1], horizon: H, carryover: C, channels: ["radio"] });
      const openSlope = analyticSlope(WB, 1, [1], 3, H, C);
      assert.ok(Math.abs(openSlope) > 0.1);
      close(open.response[1] - open.response[0], openSlope, 1e-4, "radio with tv free");
    }
  });

  it("allocations: the value is linear in each channel with the curve slopes; the observed baseline agrees with the curve's", () => {
    const H = 4;
    const cfg = { ...WIN, horizon: H, carryover: 1 };
    const sTv = analyticSlope(WB, 0, [0, 1], 3, H, 1);
    const all = allocationResponses(
      fB,
      dataB,
      [
        [0, 0],
        [1, 0],
        [1, 2],
      ],
      cfg,
    );
    assert.deepEqual(all.channels, [0, 1]);
    assert.deepEqual(all.channelNames, ["tv", "radio"]);
    close(all.values[1] - all.values[0], sTv, 1e-4, "tv slope");
    close(all.values[2] - all.values[1], 0, 1e-5, "radio adds nothing");
    assert.equal(all.perUnit.length, 3);
    const one = allocationResponse(fB, dataB, [1, 2], cfg);
    close(one.value, all.values[2], 1e-6, "single = batched");
    const curve = responseCurve(fB, dataB, { ...cfg, channel: "tv", levels: [0] });
    close(one.observed.value, curve.baseline.response, 1e-5, "observed baseline");
    close(one.observed.allocation[0], curve.baseline.spend, 1e-6, "observed tv spend");
  });

  it("raw scale through a fitted scaler (log1p channels): levels in currency, the target back in its units", () => {
    // A raw panel: positive spend (10 + 2 z), sales in its own units (100 + 5 z).
    const base = simulateVar(WA, 2, 40, 3);
    const rawValues = new Float32Array(base.values.length);
    for (let k = 0; k < rawValues.length; k++) rawValues[k] = k % 3 === 2 ? 100 + 5 * base.values[k] : Math.max(0.5, 10 + 2 * base.values[k]);
    const raw: Panel = {
      values: rawValues,
      units: 2,
      steps: 40,
      nodes: 3,
      nodeNames: ["tv", "radio", "sales"],
      roles: ["channel", "channel", "target"],
      unitIds: ["u0", "u1"],
      provenance: { generator: "test", params: {} },
    };
    const scaler = fitScaler(raw, { steps: { from: 0, to: 30 }, log1p: "channels" });
    const scaled = applyScaler(raw, scaler);
    const scale = scalerScale(scaler, scaled);
    const H = 4;
    const levels = [0, 5, 20, 80];
    const curve = responseCurve(fA, scaled, { ...WIN, channel: "tv", levels, horizon: H, scale });
    // Linear in the model's scale: sales_raw = 100-ish + sd_y * z_y, z_tv = (log1p(level) - m) / s.
    const [m, s] = [scaler.mean[0][0], scaler.sd[0][0]];
    const sdY = scaler.sd[0][2];
    const coef = (k: number) => (b * (1 - a ** Math.max(0, H - 1 - k))) / (1 - a);
    levels.forEach((lv, p) => {
      const zl = (Math.log1p(lv) - m) / s;
      const ref = meanWindows([0, 1], WIN.origins, (u, o) => sum(Array.from({ length: H }, (_, k) => coef(k) * (zl - value(scaled, u, o + k, 0)))));
      close(curve.response[p] - curve.baseline.response, sdY * ref.mean, 1e-3 * sdY, `level ${lv}`);
    });
    // Concave in raw spend (log1p), increasing.
    for (let p = 1; p < levels.length; p++) assert.ok(curve.response[p] > curve.response[p - 1]);
    const inc = (p: number) => (curve.response[p] - curve.response[p - 1]) / (levels[p] - levels[p - 1]);
    assert.ok(inc(1) > inc(2) && inc(2) > inc(3), "diminishing returns");
    // Baseline spend is the raw observed spend.
    const spend = meanWindows([0, 1], WIN.origins, (u, o) => sum([0, 1, 2, 3].map((h) => raw.values[(u * 40 + o + h) * 3])) / H);
    close(curve.baseline.spend, spend.mean, 1e-3, "raw baseline spend");
    // Multipliers act on raw spend.
    const mc = responseCurve(fA, scaled, { ...WIN, channel: "tv", multipliers: [2], horizon: H, scale });
    close(mc.spend[0], 2 * spend.mean, 2e-3, "raw spend at multiplier 2");
  });

  it("errors: unknown channel, a non-channel node, levels and multipliers, bad config, windows without room", () => {
    const cfg = { ...WIN, horizon: 3 };
    assert.throws(
      () => responseCurve(fB, dataB, { ...cfg, channel: "print", levels: [1] }),
      /responseCurve: unknown channel "print" \(nodes: tv, radio, visits, sales\)/,
    );
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "visits", levels: [1] }), /"visits" is not one of the channels \[tv, radio\]/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: 9, levels: [1] }), /channel 9 is not a node index in 0..3/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "tv" }), /exactly one of levels or multipliers/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "tv", levels: [1], multipliers: [1] }), /exactly one of levels or multipliers/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "tv", levels: [NaN] }), /levels\[0\] = NaN is not finite/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "tv", levels: [1], horizon: 0 }), /horizon must be a positive integer/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "tv", levels: [1], channels: ["tv", "sales"] }), /the target "sales" cannot be a channel/);
    assert.throws(() => responseCurve(fB, dataB, { ...cfg, channel: "tv", levels: [1], others: "zero" as never }), /others must be "observed" or "last"/);
    // Origin 33 + horizon 8 runs past the test window's end (40).
    assert.throws(() => responseCurve(fB, dataB, { ...WIN, origins: [33], horizon: 8, channel: "tv", levels: [1] }), /no origin/);
    assert.throws(() => allocationResponse(fB, dataB, [1], cfg), /allocation has 1 entries, expected one per channel \(2: tv, radio\)/);
    assert.throws(() => budgetFromForecaster(fB, dataB, { ...cfg, total: -2 }), /budgetFromForecaster: total must be a finite number >= 0, got -2/);
    assert.throws(
      () => budgetFromForecaster(fB, dataB, { ...cfg, total: 1, lower: [1, 1] }),
      /infeasible bounds: the lower bounds sum to 2, more than the total 1/,
    );
    const raw = { ...dataB, nodeNames: ["a", "b", "c", "d"] };
    const scaler = fitScaler({ ...raw, unitIds: ["x", "y", "z"], provenance: { generator: "t", params: {} } } as Panel, { scope: "unit-node" });
    assert.throws(() => scalerScale(scaler, { units: 3, nodeNames: ["a", "b", "c", "d"] }), /needs the data's unitIds/);
    assert.throws(() => scalerScale(scaler, { units: 1, unitIds: ["w"] }), /not fitted on unit "w"/);
    assert.throws(() => scalerScale(scaler, dataB), /fitted on nodes \[a, b, c, d\], the data has \[tv, radio, visits, sales\]/);
  });
});

// ---------------------------------------------------------------------------------------------
// Budget from a forecaster
// ---------------------------------------------------------------------------------------------

/**
 * A nonlinear forecaster with a known concave response: nodes [c0, c1, c2, y],
 * y(t + 1) = sum_c w_c log(1 + max(c(t), 0)); channels persist (c(t + 1) = c(t)).
 */
class LogResponse implements Forecaster {
  readonly nodes = 4;
  readonly minHistory = 1;
  readonly acceptsGraph = false;
  constructor(readonly w: number[]) {}
  private next(x: tf.Tensor2D): tf.Tensor2D {
    const c = x.slice([0, 0], [x.shape[0], 3]);
    const y = tf.log1p(tf.relu(c)).mul(tf.tensor1d(this.w)).sum(1, true);
    return tf.concat([c, y], 1) as tf.Tensor2D;
  }
  predictOneStep(x: tf.Tensor3D, _inputs?: ForecastInputs): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, N] = x.shape;
      return this.next(x.reshape([B * T, N]) as tf.Tensor2D).reshape([B, T, N]) as tf.Tensor3D;
    });
  }
  rollout(x: tf.Tensor3D, horizon: number, inputs?: ForecastInputs & { feed?: RolloutFeed }): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, N] = x.shape;
      let last = x.slice([0, T - 1, 0], [B, 1, N]).reshape([B, N]) as tf.Tensor2D;
      const outs: tf.Tensor2D[] = [];
      const feed = inputs?.feed;
      for (let h = 0; h < horizon; h++) {
        const pred = this.next(last);
        outs.push(pred);
        last = pred;
        if (feed) {
          const m = feed.mask.slice([0, h, 0], [B, 1, N]).reshape([B, N]);
          last = pred.mul(tf.sub(1, m)).add(feed.values.slice([0, h, 0], [B, 1, N]).reshape([B, N]).mul(m)) as tf.Tensor2D;
        }
      }
      return tf.stack(outs, 1) as tf.Tensor3D;
    });
  }
}

describe("budgetFromForecaster", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  const rng = new Rng(5);
  const steps = 30;
  const values = new Float32Array(2 * steps * 4);
  for (let k = 0; k < values.length; k++) values[k] = k % 4 === 3 ? rng.normal() : rng.range(0, 2);
  const data: SeriesData = {
    values,
    units: 2,
    steps,
    nodes: 4,
    roles: ["channel", "channel", "channel", "target"],
    nodeNames: ["tv", "radio", "search", "sales"],
  };
  const w = [1, 2, 4];
  const f = new LogResponse(w);
  const cfg = { window: { from: 20, to: 30 }, history: 3, origins: [20, 23], horizon: 5 };

  it("finds the water-filling optimum of a forecaster with a concave response, within the budget and the bounds, without leaking tensors", () => {
    const before = tf.memory().numTensors;
    const r = budgetFromForecaster(f, data, { ...cfg, total: 3 });
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    assert.deepEqual(r.plan.channelNames, ["tv", "radio", "search"]);
    assert.equal(r.converged, true, `${r.stopReason}, stationarity ${r.stationarity}`);
    const opt = [0, 2 / 3, 7 / 3];
    closeAll(r.allocation, opt, 3e-3, "allocation");
    assertFeasible(r.allocation, 3, [0, 0, 0], [Infinity, Infinity, Infinity], "forecaster budget");
    // Objective = const + (H - 1) sum w log(1 + x): the optimum's value matches the analytic allocation's.
    const at = allocationResponses(f, data, [opt, [1, 1, 1]], cfg).values;
    close(r.value, at[0], 1e-4 * Math.abs(at[0]), "value at the optimum");
    close(at[0] - at[1], 4 * (logUtility(w)(opt) - logUtility(w)([1, 1, 1])), 1e-4, "objective differences are (H - 1) x the toy's");
    assert.ok(
      r.observed.allocation.every((v) => v > 0.5 && v < 1.5),
      `observed mean spend ${r.observed.allocation}`,
    );
    close(r.observed.total, sum(r.observed.allocation), 1e-12, "observed total");
  });

  it("respects upper bounds (the capped optimum)", () => {
    const r = budgetFromForecaster(f, data, { ...cfg, total: 3, upper: [Infinity, Infinity, 1.5] });
    closeAll(r.allocation, [1 / 6, 4 / 3, 1.5], 3e-3, "allocation");
    assert.equal(r.allocation[2], 1.5, "the capped channel sits exactly on its bound");
    assertFeasible(r.allocation, 3, [0, 0, 0], [Infinity, Infinity, 1.5], "capped");
  });

  it("response curves do not leak tensors either", () => {
    const before = tf.memory().numTensors;
    responseCurve(f, data, { ...cfg, channel: "search", levels: [0, 1, 2], carryover: 1 });
    allocationResponse(f, data, [1, 1, 1], cfg);
    assert.equal(tf.memory().numTensors, before);
  });
});
