import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { trueInfluence } from "../../lib/analysis/true-influence";
import { type Panel, type Scaler, applyScaler, fitScaler, scaleValue, subsetUnits, unscaleValue } from "../../lib/data/panel";
import { type SimulationResult, VAR_DAG_DEFAULTS, generateRawlog, generateSparseTarget, generateVarDag } from "../../lib/data/simulate";
import { generateBypassProne } from "../../lib/data/bypass-prone";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import { arCig, scoreArCig } from "../../lib/diagnostics/influence";
import { LinearVarForecaster } from "../../lib/diagnostics/linear-var";
import { planWindows } from "../../lib/diagnostics/windows";
import { unitGraphs } from "../../lib/diagnostics/ranking";
import { transitiveClosure } from "../../lib/graph";
import { unitProcess } from "./resimulate";

const closeMatrix = (a: number[][], b: number[][], tol: number, what: string) =>
  a.forEach((row, j) =>
    row.forEach((v, i) => assert.ok(Math.abs(v - b[j][i]) <= tol * Math.max(1, Math.abs(b[j][i])), `${what}[${j}][${i}]: ${v} vs ${b[j][i]}`)),
  );

/**
 * An independent brute-force re-simulation of one window: the noise of every non-root node is
 * recovered from the panel (x_i(t) minus its autoregression and parents), delta_j is added to
 * node j at o - 1 in the model scale (a channel's spend, or node j's noise), and the generator's
 * recursion is run forward from o - 1 with that noise; the trajectories are differenced in the
 * model scale. `keep` (direct influence): the receiver whose change is read; every node other
 * than j and `keep` is then held at its observed value. Returns mean over o .. o + H - 1 of
 * |change| / delta_j for every node (only `keep` when given).
 */
function bruteForce(sim: SimulationResult, scaler: Scaler, unit: number, o: number, H: number, j: number, delta: number, keep?: number): number[] {
  const { N, C, obs, ar, sat, drive, noise } = unitProcess(sim, unit);
  const bumped = unscaleValue(scaler, j, scaleValue(scaler, j, obs[j][o - 1]) + delta);
  const spend2 = obs.slice(0, C).map((s, k) => s.map((v, t) => (k === j && t === o - 1 ? bumped : v)));
  const f2 = spend2.map((s, k) => sat(s, k));
  const cf = [...spend2, ...obs.slice(C).map((s) => [...s])];
  for (let t = o - 1; t < o + H; t++) {
    for (let i = C; i < N; i++) {
      if (keep !== undefined && i !== j && i !== keep) continue;
      const e = noise(i, t) + (i === j && t === o - 1 ? bumped - obs[j][o - 1] : 0);
      cf[i][t] = ar[i] * cf[i][t - 1] + drive(cf, f2, i, t) + e;
    }
  }
  return Array.from({ length: N }, (_, i) => {
    if (keep !== undefined && i !== keep) return NaN;
    let s = 0;
    for (let t = o; t < o + H; t++) s += Math.abs(scaleValue(scaler, i, cf[i][t]) - scaleValue(scaler, i, obs[i][t]));
    return s / (H * delta);
  });
}

/** Brute-force direct and total matrices over units and origins. */
function bruteMatrices(sim: SimulationResult, scaler: Scaler, units: number[], origins: number[], H: number, delta: number[]) {
  const N = sim.panel.nodes;
  const direct = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  const total = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  const share = 1 / (units.length * origins.length);
  for (const u of units)
    for (const o of origins)
      for (let j = 0; j < N; j++) {
        bruteForce(sim, scaler, u, o, H, j, delta[j]).forEach((v, i) => (total[j][i] += v * share));
        for (let i = 0; i < N; i++) direct[j][i] += bruteForce(sim, scaler, u, o, H, j, delta[j], i)[i] * share;
      }
  return { direct, total };
}

describe("trueInfluence", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  const cases: [string, SimulationResult, Scaler][] = (() => {
    const lin = generateVarDag({ units: 5, steps: 70, seed: 3, linear: true });
    const sat = generateSparseTarget({ units: 5, steps: 70, seed: 5 });
    const bypass = generateBypassProne({ units: 5, steps: 70, seed: 6 });
    return [
      ["linear VAR-DAG, training-window scaler", lin, prepareTimePanel(lin.panel).scaler!],
      ["saturating sparse-target, training-window scaler", sat, prepareTimePanel(sat.panel).scaler!],
      ["saturating sparse-target, log1p on the channels", sat, fitScaler(sat.panel, { steps: { from: 0, to: 49 }, log1p: "channels" })],
      ["bypass-prone (demand and context level in the target's equation)", bypass, prepareTimePanel(bypass.panel).scaler!],
    ];
  })();
  for (const [name, sim, scaler] of cases) {
    it(`equals a brute-force re-simulation with the recovered noise, direct and total (${name})`, () => {
      const N = sim.panel.nodes;
      const H = 4;
      const config = {
        window: { from: 50, to: 70 - H + 1 },
        stride: 5,
        history: 10,
        units: [0, 2, 4],
        horizon: H,
        delta: Array.from({ length: N }, (_, j) => 0.5 + 0.25 * j),
      };
      const got = trueInfluence(sim.panel, scaler, config);
      assert.deepEqual(got.total.origins, [50, 55, 60, 65]);
      assert.deepEqual(got.direct.units, [0, 2, 4]);
      assert.equal(got.direct.kind, "ar-cig-direct");
      assert.equal(got.total.kind, "ar-cig-total");
      assert.equal(got.total.source, "generator");
      assert.equal(got.total.perUnit.length, 3);
      const want = bruteMatrices(sim, scaler, config.units, got.total.origins, H, config.delta);
      closeMatrix(got.total.values, want.total, 1e-7, `${name}, total`);
      closeMatrix(got.direct.values, want.direct, 1e-7, `${name}, direct`);
      // the perturbation reaches the target; direct influence lives on the unit's edges, total on its paths
      const T = N - 1;
      const C = sim.config.channels;
      assert.ok(
        got.total.values.some((row, j) => j !== T && row[T] > 1e-3),
        `${name}: some sender moves the target`,
      );
      got.direct.units.forEach((u, k) => {
        const g = sim.truth.graphs[sim.truth.graphOfUnit[u]];
        const closure = transitiveClosure(g);
        for (let j = 0; j < N; j++)
          for (let i = C; i < N; i++) {
            if (i === j) continue;
            assert.equal(got.direct.perUnit[k][j][i] > 0, g[j][i] === 1, `${name}: unit ${u}, direct ${j} -> ${i}`);
            assert.equal(got.total.perUnit[k][j][i] > 0, closure[j][i] === 1, `${name}: unit ${u}, total ${j} -> ${i}`);
          }
      });
      // channels' own later spend is unchanged
      for (let j = 0; j < C; j++) assert.equal(got.total.values[j][j], 0);
    });
  }

  it("is positive exactly on the true edges (direct) and on the transitive closure (total)", () => {
    const sim = generateSparseTarget({ units: 6, steps: 60, seed: 11 });
    const tp = prepareTimePanel(sim.panel);
    const got = trueInfluence(sim.panel, tp.scaler!, { window: { from: 48, to: 54 }, stride: 2, history: 10 });
    const scores = scoreArCig(got, unitGraphs(sim.panel));
    for (const s of [scores.direct!, scores.totalVsClosure!]) {
      s.perUnit.forEach((r, k) => assert.ok(r.reason !== undefined || r.nauprc === 1, `unit ${k}: nAUPRC ${r.nauprc}`));
    }
  });

  it("a linear VAR forecaster that is the generator in the model scale has AR-CIG equal to the true influence (same windows)", () => {
    const sim = generateVarDag({ units: 4, steps: 60, seed: 9, linear: true, graphs: 1 });
    const tp = prepareTimePanel(sim.panel);
    const sc = tp.scaler!;
    const N = sim.panel.nodes;
    const L = sim.config.lags;
    const sd = sc.sd[0];
    // z_i(t) = a_i z_i(t-1) + sum_j sum_l W[i, j, l] (sd_j / sd_i) z_j(t-l) + const + noise
    const coef = Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => new Array<number>(L).fill(0)));
    for (const e of sim.truth.edges) {
      const i = sim.panel.nodeNames.indexOf(e.target);
      const j = sim.panel.nodeNames.indexOf(e.source);
      e.weights.forEach((w, l) => (coef[i][j][l] = (w * sd[j]) / sd[i]));
    }
    sim.truth.ar.forEach((a, i) => (coef[i][i][0] += a));
    const f = new LinearVarForecaster({ coefficients: coef });
    const config = { window: { from: 42, to: 54 }, stride: 3, history: 8, horizon: 7, delta: Array.from({ length: N }, (_, j) => 1 + 0.1 * j) };
    const model = arCig(f, tp.panel, config);
    const truth = trueInfluence(sim.panel, sc, config);
    const plan = planWindows(tp.panel, config, { minHistory: f.minHistory });
    for (const m of [truth.direct, truth.total]) {
      assert.deepEqual(m.origins, plan.origins);
      assert.deepEqual(m.units, plan.units);
      assert.equal(m.history, plan.history);
    }
    assert.deepEqual(truth.total.origins, model.total!.origins);
    closeMatrix(model.total!.values, truth.total.values, 1e-4, "total AR-CIG vs true influence");
    closeMatrix(model.direct!.values, truth.direct.values, 1e-4, "direct AR-CIG vs true influence");
  });

  /** A hand-built chain a -> b -> c: a a linear channel, b and c with own autoregression, one lag. */
  function chain(): { panel: Panel; scaler: Scaler } {
    const T = 30;
    const names = ["a", "b", "c"];
    const values = Float32Array.from({ length: T * 3 }, (_, k) => 1 + ((k * 7) % 5));
    const config = { ...VAR_DAG_DEFAULTS, units: 1, channels: 1, intermediates: 1, steps: T, graphs: 1, lags: 1, linear: true, contextDim: 0 };
    const drawn = {
      graphOfUnit: [0],
      ar: [0, 0.5, 0.8],
      edges: [
        { graph: 0, source: "a", target: "b", weights: [1.5] },
        { graph: 0, source: "b", target: "c", weights: [2] },
      ],
      channels: [{ name: "a", adstock: 0, slope: 1, halfPoint: 1, contextGamma: [] }],
    };
    const panel: Panel = {
      values,
      units: 1,
      steps: T,
      nodes: 3,
      nodeNames: names,
      roles: ["channel", "intermediate", "target"],
      unitIds: ["u0"],
      provenance: { generator: "var-dag", params: { config, drawn } },
    };
    const scaler: Scaler = {
      scope: "node",
      nodeNames: names,
      log1p: [false, false, false],
      mean: [[0.3, -1, 2]],
      sd: [[1, 1, 2]],
      fittedOn: { steps: { from: 0, to: 20 }, units: ["u0"] },
    };
    return { panel, scaler };
  }

  it("a chain a -> b -> c: direct a -> c is 0, total a -> c is not; hand-computed values", () => {
    const { panel, scaler } = chain();
    const config = { origins: [20, 24], window: { from: 20, to: 28 }, history: 5, horizon: 3, delta: [1, 0.5, 1] };
    const { direct, total } = trueInfluence(panel, scaler, config);
    // b -> c: Delta x_b(o-1) = delta_b sd_b = 0.5, x_b decays by 0.5, Delta x_c(t) = 0.8 Delta x_c(t-1) + 2 Delta x_b(t-1):
    // Delta x_c = 1, 1.3, 1.29 over o..o+2, i.e. 0.5, 0.65, 0.645 in the model scale (sd_c = 2), / delta_b
    assert.ok(Math.abs(direct.values[1][2] - (0.5 + 0.65 + 0.645) / 3 / 0.5) < 1e-12, `direct b -> c ${direct.values[1][2]}`);
    assert.ok(Math.abs(total.values[1][2] - direct.values[1][2]) < 1e-12, "b -> c has one path");
    // a -> b: Delta spend 1 at o-1, Delta x_b = 1.5, 0.75, 0.375
    assert.ok(Math.abs(direct.values[0][1] - (1.5 + 0.75 + 0.375) / 3) < 1e-12, `direct a -> b ${direct.values[0][1]}`);
    // a -> c: no edge; through b: Delta x_c = 0, 3, 3.9 (0, 1.5, 1.95 in the model scale)
    assert.equal(direct.values[0][2], 0);
    assert.ok(Math.abs(total.values[0][2] - (0 + 1.5 + 1.95) / 3) < 1e-12, `total a -> c ${total.values[0][2]}`);
    // nothing flows against the edges; b's diagonal is its own decay 0.25, 0.125, 0.0625 (/ delta_b)
    assert.equal(total.values[2][1], 0);
    assert.equal(total.values[1][0], 0);
    assert.ok(Math.abs(direct.values[1][1] - (0.25 + 0.125 + 0.0625) / 3 / 0.5) < 1e-12);
    // one step is too short for the two-edge path
    assert.equal(trueInfluence(panel, scaler, { ...config, horizon: 1 }).total.values[0][2], 0);
  });

  it("follows each unit's graph on a unit subset", () => {
    const sim = generateVarDag({ units: 6, steps: 50, seed: 4 });
    const sc = prepareTimePanel(sim.panel).scaler!;
    const config = { window: { from: 36, to: 44 }, stride: 4, history: 6 };
    const full = trueInfluence(sim.panel, sc, { ...config, units: [4, 1] });
    const sub = trueInfluence(subsetUnits(sim.panel, [4, 1]), sc, config);
    closeMatrix(sub.direct.values, full.direct.values, 1e-12, "subset direct");
    closeMatrix(sub.total.perUnit[0], full.total.perUnit[0], 1e-12, "subset total, unit 4");
  });

  it("refuses panels without the generator's parameters, scaled panels and windows past the panel, with one-line messages", () => {
    const sim = generateVarDag({ units: 3, steps: 40, seed: 1 });
    const sc = prepareTimePanel(sim.panel).scaler!;
    const ok = { window: { from: 30, to: 34 }, history: 5 };
    const bare: Panel = { ...sim.panel, provenance: undefined as unknown as Panel["provenance"] };
    assert.throws(() => trueInfluence(bare, sc, ok), /trueInfluence: .*no provenance/);
    const noParams: Panel = { ...sim.panel, provenance: { generator: "var-dag", params: {} } };
    assert.throws(() => trueInfluence(noParams, sc, ok), /lacks the drawn parameters/);
    const rawlog = generateRawlog({ units: 3, steps: 40, seed: 2 }).panel;
    assert.throws(() => trueInfluence(rawlog, sc, ok), /generateVarDag, generateSparseTarget or the bypass-prone generator \(this one: rawlog\)/);
    assert.throws(() => trueInfluence(applyScaler(sim.panel, sc), sc, ok), /standardised/);
    assert.throws(
      () => trueInfluence(sim.panel, sc, { ...ok, window: { from: 30, to: 40 } }),
      /origin 34 needs steps 34..40 inside the panel's 40 steps \(end the test window at 34\)/,
    );
    assert.throws(() => trueInfluence(sim.panel, sc, { ...ok, delta: [1] }), /delta has 1 entries/);
    const other = fitScaler(generateVarDag({ units: 3, steps: 40, seed: 1, intermediates: 1 }).panel);
    assert.throws(() => trueInfluence(sim.panel, other, ok), /scaler was fitted on nodes/);
  });
});
