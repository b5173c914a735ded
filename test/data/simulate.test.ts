import assert from "node:assert/strict";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import { edgeCount, isAcyclic } from "../../lib/graph";
import { readPanelCsv, writePanelCsv } from "../../lib/data/csv";
import { fitVarOls } from "../../lib/data/ols";
import { type Panel, at, nodeSeries, validatePanel } from "../../lib/data/panel";
import {
  type SimulationResult,
  SPARSE_TARGET_DEFAULTS,
  VAR_DAG_DEFAULTS,
  contextHalfPoint,
  generateRawlog,
  generateSparseTarget,
  generateSwap,
  generateVarDag,
  geometricAdstock,
  hillSaturation,
  rolesForNodes,
  saturationCurve,
  spectralRadius,
  spendFlights,
  swapGrid,
} from "../../lib/data/simulate";
import { assertSamePanel, spendProfile, tempDir } from "./helpers";

const SMALL = { units: 12, steps: 40, burnIn: 30 };

const series = nodeSeries;

function excessKurtosis(a: number[]): number {
  const n = a.length;
  const m = a.reduce((x, y) => x + y, 0) / n;
  let s2 = 0;
  let s4 = 0;
  for (const v of a) {
    s2 += (v - m) ** 2;
    s4 += (v - m) ** 4;
  }
  s2 /= n;
  s4 /= n;
  return s4 / (s2 * s2) - 3;
}

/** Write panel + sidecar + edges to a temp folder, read back, compare. */
function roundTrip(res: SimulationResult): void {
  const file = join(tempDir(), `${res.panel.provenance.generator}.csv`);
  const w = writePanelCsv(res.panel, file);
  assert.ok(w.edges, "a generated panel has true graphs, written as an edge file");
  const back = readPanelCsv(file);
  assertSamePanel(back, res.panel);
  assert.equal(back.provenance.generator, res.panel.provenance.generator);
  assert.equal(back.provenance.seed, res.panel.provenance.seed);
  assert.deepEqual(back.provenance.params, JSON.parse(JSON.stringify(res.panel.provenance.params)));
}

describe("VAR-DAG generator", () => {
  it("is deterministic in its seed and records config, seed and graphs", () => {
    const a = generateVarDag({ ...SMALL, seed: 5 });
    const b = generateVarDag({ ...SMALL, seed: 5 });
    const c = generateVarDag({ ...SMALL, seed: 6 });
    assert.deepEqual(a.panel.values, b.panel.values);
    assert.notDeepEqual(a.panel.values, c.panel.values);
    assert.equal(a.panel.provenance.generator, "var-dag");
    assert.equal(a.panel.provenance.seed, 5);
    const params = a.panel.provenance.params as { config: typeof a.config; drawn: typeof a.truth };
    assert.equal(params.config.seed, 5);
    assert.equal(params.config.units, 12);
    assert.deepEqual(params.drawn.graphs, a.panel.truth!.graphs);
    assert.ok(params.drawn.edges.length > 0 && params.drawn.edges.every((e) => e.weights.length === a.config.lags));
    assert.doesNotThrow(() => JSON.stringify(a.panel.provenance));
  });

  it("draws K distinct DAGs: channels are roots, no edge out of the target, every non-root has a parent; units in equal shares", () => {
    const { panel, config } = generateVarDag({ ...SMALL, units: 30, graphs: 3, seed: 2 });
    const C = config.channels;
    const N = panel.nodes;
    const g = panel.truth!.graphs;
    assert.equal(g.length, 3);
    assert.equal(new Set(g.map((x) => JSON.stringify(x))).size, 3);
    for (const G of g) {
      assert.ok(isAcyclic(G));
      for (let i = 0; i < N; i++) {
        const parents = G.filter((row) => row[i]).length;
        if (i < C) assert.equal(parents, 0, `channel ${panel.nodeNames[i]} has no parents`);
        else assert.ok(parents >= 1, `${panel.nodeNames[i]} has a parent`);
      }
      assert.ok(G[N - 1].every((v) => v === 0));
    }
    assert.deepEqual(
      [0, 1, 2].map((k) => panel.truth!.graphOfUnit.filter((x) => x === k).length),
      [10, 10, 10],
    );
    validatePanel(panel, { requireDag: true, targetIsSink: true, nonNegativeChannels: true });
  });

  it("media roots are non-negative spend with flights (zero runs), bursts and zeros", () => {
    const { panel, config } = generateVarDag({ ...SMALL, seed: 3 });
    const { zeros, zeroRuns: longZeroRuns, bursty } = spendProfile(panel, config.channels, { zeroRun: 3, minOn: 4 });
    const cells = panel.units * panel.steps * config.channels;
    assert.ok(zeros / cells > 0.2 && zeros / cells < 0.6, `zero share ${zeros / cells}`);
    assert.ok(longZeroRuns > 10, "off-flights of 3+ steps");
    assert.ok(bursty > 5, "bursts well above the on-flight median");
  });

  it("the context moves the Hill half-point only: same media, different responses", () => {
    const a = generateVarDag({ ...SMALL, seed: 4 });
    const b = generateVarDag({ ...SMALL, seed: 4, saturation: { contextEffect: 0 } });
    const C = a.config.channels;
    for (let u = 0; u < a.panel.units; u++) assert.deepEqual(series(a.panel, u, 0), series(b.panel, u, 0));
    assert.ok(a.truth.channels.every((c) => c.contextGamma.length === 2 && c.contextGamma.some((g) => g !== 0)));
    assert.ok(b.truth.channels.every((c) => c.contextGamma.every((g) => g === 0)));
    assert.notDeepEqual(series(a.panel, 0, C), series(b.panel, 0, C));
    const ctx = a.panel.context!;
    assert.equal(ctx.values.length, a.panel.units * 2);
    assert.ok(Array.from(ctx.values).every((v) => v >= 0 && v < 1));
  });

  it("calibrates every non-root node's parent share exactly and is stable", () => {
    const { truth, config } = generateVarDag({ ...SMALL, seed: 7, parentShareIntermediate: 0.3, parentShareTarget: 0.6 });
    for (const s of truth.shares) {
      assert.ok(Math.abs(s.achieved - s.requested) < 1e-9, `${s.node}: ${s.achieved} vs ${s.requested}`);
      assert.ok(s.unitMin <= s.achieved && s.achieved <= s.unitMax + 1e-12);
    }
    const maxAr = Math.max(...truth.ar);
    truth.spectralRadius.forEach((r) => {
      assert.ok(Math.abs(r - maxAr) < 1e-6, `a DAG's companion radius is max |a_i|: ${r} vs ${maxAr}`);
      assert.ok(r < config.maxSpectralRadius);
    });
  });

  it("refuses an unstable configuration", () => {
    assert.throws(() => generateVarDag({ ...SMALL, arTarget: [0.98, 0.985], maxSpectralRadius: 0.97 }), /not stable enough/);
    assert.throws(() => generateVarDag({ ...SMALL, arTarget: [0.5, 1.2] }), /arTarget/);
  });

  it("spectralRadius is right on known matrices", () => {
    assert.ok(
      Math.abs(
        spectralRadius([
          [0.5, 10],
          [0, 0.3],
        ]) - 0.5,
      ) < 1e-6,
    );
    assert.ok(
      Math.abs(
        spectralRadius([
          [0, 1],
          [-1, 0],
        ]) - 1,
      ) < 1e-6,
    );
    assert.equal(
      spectralRadius([
        [0, 1],
        [0, 0],
      ]),
      0,
    );
  });

  it("linear settings: OLS VAR recovers the true parent set", () => {
    // Thresholds (stated): standardised lag-block norm >= 0.08 for every true edge and <= 0.05
    // for every absent off-diagonal pair (min true / max absent >= 1.6); Wald statistic
    // (chi-squared, L = 2 df) >= 500 for every true edge and <= 25 for every absent pair
    // (p ~ 4e-6). Units are fitted per graph with a unit fixed effect; channels (roots) are
    // receivers too, so "absent" includes every pair into a channel.
    const config = {
      linear: true,
      units: 200,
      steps: 400,
      graphs: 2,
      lags: 2,
      density: 0.3,
      parentShareIntermediate: 0.7,
      parentShareTarget: 0.7,
      weightMin: 1,
      weightMax: 1.5,
    };
    for (const seed of [1, 2, 3]) {
      const { panel } = generateVarDag({ ...config, seed });
      let minTrue = Infinity;
      let maxAbsent = 0;
      let minTrueWald = Infinity;
      let maxAbsentWald = 0;
      for (let g = 0; g < 2; g++) {
        const units = panel.truth!.graphOfUnit.flatMap((k, u) => (k === g ? [u] : []));
        const fit = fitVarOls(panel, { lags: 2, units });
        const G = panel.truth!.graphs[g];
        for (let j = 0; j < panel.nodes; j++)
          for (let i = 0; i < panel.nodes; i++) {
            if (i === j) continue;
            if (G[j][i]) {
              minTrue = Math.min(minTrue, fit.blockNorm[j][i]);
              minTrueWald = Math.min(minTrueWald, fit.wald[j][i]);
            } else {
              maxAbsent = Math.max(maxAbsent, fit.blockNorm[j][i]);
              maxAbsentWald = Math.max(maxAbsentWald, fit.wald[j][i]);
            }
          }
      }
      assert.ok(minTrue >= 0.08, `seed ${seed}: weakest true edge ${minTrue}`);
      assert.ok(maxAbsent <= 0.05, `seed ${seed}: strongest absent pair ${maxAbsent}`);
      assert.ok(minTrue / maxAbsent >= 1.6, `seed ${seed}: separation ${minTrue / maxAbsent}`);
      assert.ok(minTrueWald >= 500, `seed ${seed}: weakest true Wald ${minTrueWald}`);
      assert.ok(maxAbsentWald <= 25, `seed ${seed}: strongest absent Wald ${maxAbsentWald}`);
    }
  });

  it("round trip through CSV + edge file gives the same panel", () => {
    roundTrip(generateVarDag({ ...SMALL, seed: 8 }));
  });
});

describe("channel response and flights", () => {
  it("geometric adstock carries lambda^t of an impulse and accumulates a constant to x / (1 - lambda)", () => {
    const a = geometricAdstock([2, 0, 0, 0], 0.5);
    assert.deepEqual(Array.from(a), [2, 1, 0.5, 0.25]);
    const c = geometricAdstock(new Array(200).fill(1), 0.6);
    assert.ok(Math.abs(c[199] - 1 / 0.4) < 1e-12);
  });

  it("the Hill curve is 0 at 0, 1/2 at the half-point, increasing, steeper with a larger exponent", () => {
    assert.equal(hillSaturation(0, 1.3, 2), 0);
    assert.ok(Math.abs(hillSaturation(1.3, 1.3, 2.7) - 0.5) < 1e-15);
    assert.ok(Math.abs(hillSaturation(2, 1, 2) - 0.8) < 1e-15);
    assert.ok(hillSaturation(0.5, 1, 3) < hillSaturation(0.5, 1, 1) && hillSaturation(2, 1, 3) > hillSaturation(2, 1, 1));
  });

  it("the context moves the half-point on the log scale around the base half-point at c = 0.5", () => {
    const ch = { halfPoint: 2, contextGamma: [1, -0.5], slope: 2 };
    assert.equal(contextHalfPoint(ch, [0.5, 0.5]), 2);
    assert.ok(Math.abs(contextHalfPoint(ch, [1, 0.5]) - 2 * Math.exp(0.5)) < 1e-12);
    assert.ok(Math.abs(contextHalfPoint(ch, [0.5, 0]) - 2 * Math.exp(0.25)) < 1e-12);
    assert.throws(() => contextHalfPoint(ch, [0.5]), /2 context values/);
    const kappa = contextHalfPoint(ch, [0.9, 0.1]);
    const curve = saturationCurve(ch, [0.9, 0.1], [0, kappa, 2 * kappa]);
    [0, 0.5, 0.8].forEach((v, k) => assert.ok(Math.abs(curve[k] - v) < 1e-12, `point ${k}: ${curve[k]} vs ${v}`));
  });

  it("the generator's channel parameters give curves that differ by unit context", () => {
    const { panel, truth } = generateVarDag({ ...SMALL, seed: 4 });
    const k = panel.context!.names.length;
    const ctx = (u: number) => panel.context!.values.subarray(u * k, (u + 1) * k);
    const ch = truth.channels[0];
    const kappas = Array.from({ length: panel.units }, (_, u) => contextHalfPoint(ch, ctx(u)));
    assert.ok(Math.max(...kappas) / Math.min(...kappas) > 1.1, "the context spreads the half-points");
    const u = kappas.indexOf(Math.min(...kappas));
    const curve = saturationCurve(ch, ctx(u), [kappas[u]]);
    assert.ok(Math.abs(curve[0] - 0.5) < 1e-12);
  });

  it("spendFlights counts zeros, flights, gaps and bursts by hand", () => {
    const ch = [
      [0, 1, 1, 0, 0, 2, 10, 2],
      [3, 3, 3, 3, 3, 3, 3, 3],
    ];
    const T = 8;
    const values = new Float32Array(2 * T * 2);
    ch.forEach((s, u) => s.forEach((v, t) => (values[(u * T + t) * 2] = v)));
    const panel: Panel = {
      values,
      units: 2,
      steps: T,
      nodes: 2,
      nodeNames: ["tv", "sales"],
      roles: ["channel", "target"],
      unitIds: ["a", "b"],
      provenance: { generator: "hand", params: {} },
    };
    const [f] = spendFlights(panel);
    assert.equal(spendFlights(panel).length, 1, "channels only");
    assert.equal(f.node, "tv");
    assert.equal(f.zeroShare, 3 / 16);
    assert.equal(f.flightsPerUnit, 1.5);
    assert.equal(f.meanFlight, 13 / 3);
    assert.equal(f.meanGap, 1.5);
    assert.equal(f.meanOnSpend, 40 / 13);
    assert.equal(f.burstShare, 1 / 13, "10 > 2 x the median 2 of unit a");
    const b = spendFlights(panel, { units: [1] })[0];
    assert.deepEqual([b.zeroShare, b.flightsPerUnit, b.meanFlight, b.burstShare], [0, 1, 8, 0]);
    assert.ok(Number.isNaN(b.meanGap));
  });

  it("spendFlights on generated media matches the flight process's settings", () => {
    const { panel, config } = generateVarDag({ units: 40, steps: 400, burnIn: 30, seed: 12 });
    const m = config.media;
    const duty = m.meanOn / (m.meanOn + m.meanOff);
    const expectedZero = 1 - duty * (1 - m.zeroProb);
    for (const f of spendFlights(panel)) {
      assert.ok(Math.abs(f.zeroShare - expectedZero) < 0.03, `${f.node}: zero share ${f.zeroShare} vs ${expectedZero}`);
      assert.ok(f.meanFlight > 4 && f.meanFlight < m.meanOn, `${f.node}: dark days split flights, mean ${f.meanFlight}`);
      assert.ok(f.burstShare > 0.01 && f.burstShare < 0.2, `${f.node}: burst share ${f.burstShare}`);
    }
  });
});

/**
 * The target's parent share of a sparse-target panel, measured from the panel itself and the
 * recorded draws (`provenance.params.drawn`: edges, ar, channels), with code of its own: no
 * function of lib/data/simulate.ts is called. The generator writes the target as
 * x(t) = a x(t-1) + P(t) + e(t), P(t) = sum over the unit's graph's edges j -> target of
 * sum_s W[s] f_j(x_j(t-s)), with f_j = Hill(geometric adstock(spend)) for a channel (its
 * half-point moved by the unit's context) and the identity otherwise; it calibrates the share as
 * Var_t(xP) / Var_t(x), xP = (1 - aB)^-1 P, within-unit variances summed over units. Here P is
 * rebuilt from the panel's values, xP by the same recursion, both started from a zero state at
 * the panel's first step (the panel has no burn-in: the generator's xP carries its burn-in
 * history, ours does not), and the variances are taken over the steps after `warmUp`, when the
 * adstock (lambda <= 0.7) and the AR filter (a <= 0.95) have forgotten the missing history.
 * Also returns the SD of the implied innovation x(t) - a x(t-1) - P(t), which is the noise e
 * when the reconstruction is right.
 */
function measuredTargetShare(panel: Panel, warmUp: number): { share: number; innovationSd: number } {
  const drawn = panel.provenance.params.drawn as {
    ar: number[];
    edges: { graph: number; source: string; target: string; weights: number[] }[];
    channels: { adstock: number; slope: number; halfPoint: number; contextGamma: number[] }[];
  };
  const { units: R, steps: T, nodes: N } = panel;
  const tgt = N - 1;
  const a = drawn.ar[tgt];
  const k = panel.context ? panel.context.names.length : 0;
  const value = (u: number, t: number, i: number) => panel.values[(u * T + t) * N + i];
  let varP = 0;
  let varX = 0;
  let innovSq = 0;
  let innovN = 0;
  for (let u = 0; u < R; u++) {
    const g = panel.truth!.graphOfUnit[u];
    const P = new Float64Array(T);
    for (const e of drawn.edges) {
      if (e.graph !== g || e.target !== panel.nodeNames[tgt]) continue;
      const j = panel.nodeNames.indexOf(e.source);
      const f = new Float64Array(T);
      if (panel.roles[j] === "channel") {
        const ch = drawn.channels[j];
        let shift = 0;
        for (let q = 0; q < k; q++) shift += ch.contextGamma[q] * (panel.context!.values[u * k + q] - 0.5);
        const kappa = ch.halfPoint * Math.exp(shift);
        let A = 0;
        for (let t = 0; t < T; t++) {
          A = value(u, t, j) + ch.adstock * A;
          f[t] = A ** ch.slope / (A ** ch.slope + kappa ** ch.slope);
        }
      } else for (let t = 0; t < T; t++) f[t] = value(u, t, j);
      for (let t = 0; t < T; t++) for (let s = 1; s <= e.weights.length && s <= t; s++) P[t] += e.weights[s - 1] * f[t - s];
    }
    const xP = new Float64Array(T);
    for (let t = 0; t < T; t++) xP[t] = P[t] + (t > 0 ? a * xP[t - 1] : 0);
    const n = T - warmUp;
    let mP = 0;
    let mX = 0;
    for (let t = warmUp; t < T; t++) {
      mP += xP[t] / n;
      mX += value(u, t, tgt) / n;
    }
    for (let t = warmUp; t < T; t++) {
      varP += (xP[t] - mP) ** 2;
      varX += (value(u, t, tgt) - mX) ** 2;
      innovSq += (value(u, t, tgt) - a * value(u, t - 1, tgt) - P[t]) ** 2;
      innovN++;
    }
  }
  return { share: varP / varX, innovationSd: Math.sqrt(innovSq / innovN) };
}

describe("sparse-target benchmark", () => {
  it("target has 1 or 2 parents, strong own AR, and the requested parent share, measured on the panel", (t) => {
    // Long enough panels to measure a variance share of a strongly autocorrelated series (T = 300
    // after the 40 warm-up steps the measurement drops, R = 60).
    const LONG = { units: 60, steps: 300, burnIn: 100, seed: 9 };
    const WARM_UP = 40;
    // Tolerance of the measured share. The generator calibrates on the sample, not on population
    // moments: each graph's scale solves Var(scale xP) / Var(x) = share exactly on its float64
    // series over the kept steps, so `achievedTargetShare` is the request to 1e-9. The measurement
    // here differs from it only because it cannot see the burn-in (see measuredTargetShare): it
    // drops the first 40 steps and restarts the filters, on float32 values. Measured on this
    // setting with seeds 1-30: the error (measured - requested) had mean +0.0002, SD 0.0034, max
    // |error| 0.0065 at 0.25, and mean +0.0005, SD 0.0052, max 0.0091 at 0.4; seed 9 gives 0.2515
    // and 0.4021. 0.02 is twice the worst of 60 panels, and a calibration off by 0.05 would
    // measure at least 0.05 - 0.01 = 0.04 away from the request: it fails (checked below with a
    // panel calibrated to 0.30).
    const TOL = 0.02;
    const r = generateSparseTarget(LONG);
    const N = r.panel.nodes;
    for (const G of r.panel.truth!.graphs) {
      const k = G.filter((row) => row[N - 1]).length;
      assert.ok(k === 1 || k === 2, `target parents ${k}`);
    }
    assert.ok(r.truth.ar[N - 1] >= 0.85);
    // the generator's own report and its record agree with each other and with the request
    assert.ok(Math.abs(r.achievedTargetShare - 0.25) < 1e-9);
    assert.equal((r.panel.provenance.params as { achievedTargetShare: number }).achievedTargetShare, r.achievedTargetShare);
    // independently: the share the panel's values show under the recorded parameters
    const m = measuredTargetShare(r.panel, WARM_UP);
    // the reconstruction is right: what is left of the target is the N(0, 1) noise (SD 1 within
    // 0.03: about 5 standard errors over 60 x 260 innovations; 0.99-1.01 over seeds 1-30)
    assert.ok(Math.abs(m.innovationSd - r.config.noiseSd) < 0.03, `innovation SD ${m.innovationSd}`);
    assert.ok(Math.abs(m.share - 0.25) < TOL, `measured target share ${m.share} vs 0.25`);

    const r4 = generateSparseTarget({ ...LONG, targetShare: 0.4 });
    assert.ok(Math.abs(r4.achievedTargetShare - 0.4) < 1e-9);
    assert.equal(r4.config.targetShare, 0.4);
    const m4 = measuredTargetShare(r4.panel, WARM_UP);
    assert.ok(Math.abs(m4.innovationSd - r4.config.noiseSd) < 0.03, `innovation SD ${m4.innovationSd}`);
    assert.ok(Math.abs(m4.share - 0.4) < TOL, `measured target share ${m4.share} vs 0.4`);

    // not vacuous: a panel calibrated 0.05 away from 0.25 measures outside the tolerance
    const off = measuredTargetShare(generateSparseTarget({ ...LONG, targetShare: 0.3 }).panel, WARM_UP);
    assert.ok(Math.abs(off.share - 0.3) < TOL && Math.abs(off.share - 0.25) > TOL, `share of the 0.30 panel measured ${off.share}`);
    t.diagnostic(
      `measured target share ${m.share.toFixed(4)} (requested 0.25), ${m4.share.toFixed(4)} (0.4), ${off.share.toFixed(4)} (0.3); ` +
        `innovation SD ${m.innovationSd.toFixed(4)}, ${m4.innovationSd.toFixed(4)}, ${off.innovationSd.toFixed(4)}`,
    );
  });

  it("paper scale (R = 100, d = 8, T = 200) generates in seconds; own past forecasts well (AR(1) R^2 > 0.7), parents add", (t) => {
    const t0 = performance.now();
    const r = generateSparseTarget();
    const ms = performance.now() - t0;
    const p = r.panel;
    assert.deepEqual([p.units, p.nodes, p.steps], [SPARSE_TARGET_DEFAULTS.units, 8, 200]);
    assert.equal(SPARSE_TARGET_DEFAULTS.units, 100);
    const target = r.truth.shares.at(-1)!;
    t.diagnostic(
      `paper-scale sparse-target generation: ${ms.toFixed(0)} ms; achieved target share ${target.achieved.toFixed(6)} (requested 0.25; per ` +
        `unit ${target.unitMin.toFixed(3)}..${target.unitMax.toFixed(3)}, median ${target.unitMedian.toFixed(3)}); one-step innovation share ` +
        `${target.innovationShare.toFixed(3)}`,
    );
    assert.ok(ms < 10_000, `took ${ms} ms`);
    // Own past alone: AR(1) on the target only.
    const T = p.steps;
    const N = p.nodes;
    const own = new Float32Array(p.units * T);
    for (let u = 0; u < p.units; u++) for (let s = 0; s < T; s++) own[u * T + s] = p.values[at(p, u, s, N - 1)];
    const targetOnly = { ...p, values: own, nodes: 1, nodeNames: ["target"], roles: ["target" as const] };
    for (let g = 0; g < p.truth!.graphs.length; g++) {
      const units = p.truth!.graphOfUnit.flatMap((k, u) => (k === g ? [u] : []));
      const ownOnly = fitVarOls(targetOnly, { lags: 1, units }).r2[0];
      assert.ok(ownOnly > 0.7, `graph ${g}: own-past R^2 ${ownOnly}`);
      const fit = fitVarOls(p, { lags: 3, units });
      assert.ok(fit.r2[N - 1] > ownOnly, `graph ${g}: the parents add to the target's own past (${fit.r2[N - 1]} vs ${ownOnly})`);
      const G = p.truth!.graphs[g];
      for (let j = 0; j < N - 1; j++)
        if (G[j][N - 1]) assert.ok(fit.wald[j][N - 1] > 30, `parent ${p.nodeNames[j]} of graph ${g} is detectable (Wald ` + `${fit.wald[j][N - 1]})`);
    }
  });

  it("round trip through CSV + edge file gives the same panel", () => {
    roundTrip(generateSparseTarget({ ...SMALL, seed: 10 }));
  });
});

describe("R/d/T swap grid", () => {
  it("is the base plus one-factor-at-a-time swaps", () => {
    const grid = swapGrid();
    assert.deepEqual(
      grid.map((s) => s.name),
      ["base", "R=20", "R=300", "d=5", "d=12", "T=50", "T=200"],
    );
    for (const s of grid) {
      const diff = (["R", "d", "T"] as const).filter((k) => s[k] !== { R: 100, d: 8, T: 100 }[k]);
      assert.deepEqual(diff, s.factor === "base" ? [] : [s.factor]);
      assert.equal(s.input.units, s.R);
      assert.equal(s.input.steps, s.T);
      assert.equal(s.input.channels! + s.input.intermediates! + 1, s.d);
    }
    assert.deepEqual(rolesForNodes(5), { channels: 3, intermediates: 1 });
    assert.deepEqual(rolesForNodes(12), { channels: 7, intermediates: 4 });
  });

  it("generates each setting with its R, d and T (scaled-down grid)", () => {
    const grid = swapGrid({
      base: { R: 9, d: 8, T: 30 },
      R: [6, 9],
      d: [5, 8, 12],
      T: [20, 30],
      overrides: { burnIn: 20, seed: 3 },
      generator: "sparse-target",
    });
    assert.equal(grid.length, 1 + 1 + 2 + 1);
    for (const s of grid) {
      const { panel } = generateSwap(s);
      assert.deepEqual([panel.units, panel.nodes, panel.steps], [s.R, s.d, s.T]);
      assert.equal(panel.provenance.generator, "sparse-target");
      assert.deepEqual((panel.provenance.params as { swap: { name: string } }).swap.name, s.name);
    }
  });

  it("round trip through CSV + edge file gives the same panel", () => {
    const s = swapGrid({ overrides: { ...SMALL, seed: 11 } }).find((x) => x.name === "d=5")!;
    roundTrip(generateSwap({ ...s, input: { ...s.input, units: 10, steps: 30 } }));
  });
});

describe("rawlog stress", () => {
  it("raw currency scales orders of magnitude apart, zero-inflated spend, outliers, heavy tails, several graphs", () => {
    const r = generateRawlog({ seed: 2, units: 40, steps: 120 });
    const p = r.panel;
    const C = r.config.channels;
    assert.equal(p.truth!.graphs.length, 4);
    assert.equal(r.config.noise, "student-t");
    const medians: number[] = [];
    let zeros = 0;
    for (let j = 0; j < C; j++) {
      const on: number[] = [];
      for (let u = 0; u < p.units; u++)
        for (const v of series(p, u, j)) {
          assert.ok(v >= 0);
          if (v === 0) zeros++;
          else on.push(v);
        }
      on.sort((a, b) => a - b);
      medians.push(on[Math.floor(on.length / 2)]);
    }
    assert.ok(Math.max(...medians) / Math.min(...medians) > 100, `channel scales ${medians}`);
    assert.ok(zeros / (p.units * p.steps * C) > 0.4, "zero-inflated spend");
    assert.ok(r.observation.outliers > 0);
    for (let i = C; i < p.nodes; i++) {
      const d: number[] = [];
      for (let u = 0; u < p.units; u++) {
        const s = series(p, u, i);
        assert.ok(
          s.every((v) => v > 0),
          "KPIs are positive raw values",
        );
        for (let t = 1; t < s.length; t++) d.push(Math.log(s[t]) - Math.log(s[t - 1]));
      }
      assert.ok(excessKurtosis(d) > 3, `${p.nodeNames[i]}: heavy tails (excess kurtosis ${excessKurtosis(d)})`);
    }
    validatePanel(p, { nonNegativeChannels: true, requireDag: true });
  });

  it("round trip through CSV + edge file gives the same panel", () => {
    roundTrip(generateRawlog({ ...SMALL, seed: 12 }));
  });
});

describe("defaults", () => {
  it("are exported in one constant per generator", () => {
    assert.equal(VAR_DAG_DEFAULTS.units, 100);
    assert.equal(SPARSE_TARGET_DEFAULTS.targetShare, 0.25);
    assert.equal(edgeCount(generateVarDag({ ...SMALL, graphs: 1, seed: 1 }).panel.truth!.graphs[0]) > 0, true);
  });
});
