import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, it } from "node:test";
import type { Graph } from "../../lib/graph";
import { generateBypassProne } from "../../lib/data/bypass-prone";
import { type GraphWorth, forecastMse, graphWorth, graphWorthWindows } from "../../lib/data/graph-worth";
import type { NodeRole, Panel } from "../../lib/data/panel";
import { generateRawlog, generateSparseTarget, generateVarDag } from "../../lib/data/simulate";
import { Rng } from "../../lib/rng";

/**
 * A known linear VAR on three nodes, one graph for every unit: two exogenous AR(1) senders
 * x1, x2 (roles "channel") and the target y(t) = a y(t-1) + c x1(t-1) + e(t) (x1 its only
 * parent when `parent`; x2 never is). Noise SDs 1.
 */
function knownVar(o: { units: number; steps: number; a: number; c: number; seed: number; parent?: boolean }): Panel {
  const rng = new Rng(o.seed);
  const N = 3;
  const burn = 50;
  const values = new Float32Array(o.units * o.steps * N);
  for (let u = 0; u < o.units; u++) {
    let [x1, x2, y] = [0, 0, 0];
    for (let t = -burn; t < o.steps; t++) {
      const y1 = o.a * y + o.c * x1 + rng.normal();
      x1 = 0.6 * x1 + rng.normal();
      x2 = 0.6 * x2 + rng.normal();
      y = y1;
      if (t >= 0) values.set([x1, x2, y], (u * o.steps + t) * N);
    }
  }
  const G: Graph = [
    [0, 0, o.parent === false ? 0 : 1],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const roles: NodeRole[] = ["channel", "channel", "target"];
  return {
    values,
    units: o.units,
    steps: o.steps,
    nodes: N,
    nodeNames: ["x1", "x2", "y"],
    roles,
    unitIds: Array.from({ length: o.units }, (_, u) => `u${u}`),
    truth: { graphs: [G], graphOfUnit: new Array(o.units).fill(0) },
    provenance: { generator: "known-var", params: {} },
  };
}

/** x solving A x = b by Gauss-Jordan elimination on a copy (A square, as rows). */
function gaussJordan(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, r) => [...row, b[r]]);
  for (let c = 0; c < n; c++) {
    const p = M.map((row, r) => [Math.abs(row[c]), r])
      .filter(([, r]) => r >= c)
      .sort((x, y) => y[0] - x[0])[0][1];
    [M[c], M[p]] = [M[p], M[c]];
    const piv = M[c][c];
    M[c] = M[c].map((v) => v / piv);
    for (let r = 0; r < n; r++) if (r !== c) M[r] = M[r].map((v, k) => v - M[r][c] * M[c][k]);
  }
  return M.map((row) => row[n]);
}

/**
 * The target's MSE@H of the linear forecaster on its own lags and those of `senders`, computed
 * directly from the definition: per-node standardisation by the pooled training mean and SD,
 * the normal equations of the pooled regression with an intercept, and rollouts that feed the
 * target its own predictions and the senders their observed values.
 */
function directMse(panel: Panel, senders: number[], L: number, H: number, trainShare: number, testShare: number): number {
  const { units: R, steps: T, nodes: N } = panel;
  const y = N - 1;
  const Ttr = Math.round(T * trainShare);
  const first = T - Math.round(T * testShare);
  const raw = (u: number, t: number, j: number) => panel.values[(u * T + t) * N + j];
  const stats = Array.from({ length: N }, (_, j) => {
    const v: number[] = [];
    for (let u = 0; u < R; u++) for (let t = 0; t < Ttr; t++) v.push(raw(u, t, j));
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return { m, sd: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) };
  });
  const z = (u: number, t: number, j: number) => Math.fround((raw(u, t, j) - stats[j].m) / stats[j].sd);
  const nodes = [y, ...senders];
  const features = (value: (t: number, j: number) => number, t: number) => [
    1,
    ...nodes.flatMap((j) => Array.from({ length: L }, (_, s) => value(t - s - 1, j))),
  ];
  const p = 1 + nodes.length * L;
  const XtX = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const Xty = new Array<number>(p).fill(0);
  for (let u = 0; u < R; u++) {
    for (let t = L; t < Ttr; t++) {
      const x = features((tt, j) => z(u, tt, j), t);
      x.forEach((xa, a) => {
        Xty[a] += xa * z(u, t, y);
        x.forEach((xb, b) => (XtX[a][b] += xa * xb));
      });
    }
  }
  const beta = gaussJordan(XtX, Xty);
  let sse = 0;
  let n = 0;
  for (let u = 0; u < R; u++) {
    for (let o = first; o + H <= T; o++) {
      const pred: number[] = [];
      for (let t = o; t < o + H; t++) {
        const x = features((tt, j) => (j === y && tt >= o ? pred[tt - o] : z(u, tt, j)), t);
        const yhat = x.reduce((a, v, k) => a + v * beta[k], 0);
        pred.push(yhat);
        sse += (yhat - z(u, t, y)) ** 2;
        n++;
      }
    }
  }
  return sse / n;
}

const close = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b}`);

describe("graph worth: MSE@7 of linear forecasters on own past, true parents, all nodes, non-parent channels", () => {
  it("matches a direct computation from the definition on a small known VAR", () => {
    const panel = knownVar({ units: 3, steps: 40, a: 0.7, c: 0.8, seed: 11 });
    const opts = { lags: 2, horizon: 3, trainShare: 0.7, testShare: 0.2 };
    const got = forecastMse(panel, ["own-past", "true-parents", "all-nodes", "non-parent-channels"], opts);
    const want = [[], [0], [0, 1], [1]].map((senders) => directMse(panel, senders, 2, 3, 0.7, 0.2));
    got.forEach((g, k) => close(g, want[k], 1e-6, `set ${k}`));
    const gw = graphWorth(panel, opts);
    assert.deepEqual([gw.ownPast, gw.trueParents, gw.allNodes, gw.nonParentChannels], got);
    assert.equal(gw.ratioOwnToParents, got[0] / got[1]);
    assert.equal(gw.ratioOwnToAll, got[0] / got[2]);
    assert.equal(gw.node, "y");
    // T = 40: 28 training steps, origins 32..37 for 3-step rollouts.
    assert.deepEqual([gw.trainSteps, gw.origins], [28, 6]);
  });

  it("the true-parent forecaster reaches the known VAR's own error; a target without parents has ratio 1", () => {
    const a = 0.7;
    const H = 7;
    const panel = knownVar({ units: 60, steps: 400, a, c: 0.8, seed: 3 });
    const gw = graphWorth(panel, { lags: 1 });
    // With the sender's path observed, the h-step error is sum_{k<h} a^k e(t+h-k): variance (1 - a^(2h)) / (1 - a^2),
    // averaged over h = 1..H, on the scale of the target's training SD.
    const Ttr = gw.trainSteps;
    const v: number[] = [];
    for (let u = 0; u < panel.units; u++) for (let t = 0; t < Ttr; t++) v.push(panel.values[(u * panel.steps + t) * 3 + 2]);
    const m = v.reduce((x, y) => x + y, 0) / v.length;
    const varY = v.reduce((x, y) => x + (y - m) ** 2, 0) / v.length;
    let theory = 0;
    for (let h = 1; h <= H; h++) theory += (1 - a ** (2 * h)) / (1 - a * a) / H;
    close(gw.trueParents, theory / varY, 0.05, "true-parent MSE@7 vs the known VAR's");
    assert.ok(gw.ratioOwnToParents > 1.5, `the parent carries much: ${gw.ratioOwnToParents}`);
    // x2 is no parent and independent of y: adding it changes little.
    close(gw.allNodes, gw.trueParents, 0.01, "all nodes vs true parents");
    close(gw.nonParentChannels, gw.ownPast, 0.01, "non-parent channel vs own past");
    // Without the edge in the true graph both forecasters read the same regressors.
    const orphan = graphWorth(knownVar({ units: 10, steps: 100, a, c: 0, seed: 4, parent: false }));
    assert.equal(orphan.trueParents, orphan.ownPast);
    assert.equal(orphan.ratioOwnToParents, 1);
  });

  it("is about 1 on a generated panel whose target's parents carry nothing and clearly above 1 with strong parents", () => {
    for (const seed of [1, 2]) {
      const none = generateSparseTarget({ seed, targetShare: 0 }).panel.provenance.params.graphWorth as GraphWorth;
      const strong = generateSparseTarget({ seed, targetShare: 0.6 }).panel.provenance.params.graphWorth as GraphWorth;
      assert.ok(none.ratioOwnToParents > 0.97 && none.ratioOwnToParents < 1.02, `seed ${seed}, no parent signal: ${none.ratioOwnToParents}`);
      assert.ok(strong.ratioOwnToParents > 1.3, `seed ${seed}, strong parents: ${strong.ratioOwnToParents}`);
    }
  });

  it("every generated panel records it (null when too short), as the function computes it; a paper-scale panel takes well under a second", (t) => {
    const small = { units: 12, steps: 60, burnIn: 30, seed: 2 };
    for (const panel of [generateVarDag(small).panel, generateSparseTarget(small).panel, generateBypassProne(small).panel]) {
      assert.deepEqual(panel.provenance.params.graphWorth, graphWorth(panel), panel.provenance.generator);
    }
    const raw = generateRawlog(small).panel.provenance.params.graphWorth as GraphWorth;
    assert.ok(raw.ownPast > 0 && Number.isFinite(raw.ratioOwnToParents));
    assert.equal(generateVarDag({ ...small, steps: 30 }).panel.provenance.params.graphWorth, null);
    assert.equal(graphWorthWindows(30), null);
    assert.deepEqual(graphWorthWindows(200), { trainSteps: 140, firstOrigin: 160, origins: 34 });
    const paper = generateSparseTarget({ seed: 1 }).panel;
    assert.deepEqual([paper.units, paper.steps, paper.nodes], [100, 200, 8]);
    graphWorth(paper);
    const t0 = performance.now();
    const gw = graphWorth(paper);
    const ms = performance.now() - t0;
    t.diagnostic(`graph worth of a 100 x 200 x 8 panel: ${ms.toFixed(0)} ms; sparse-target seed 1: ${JSON.stringify(gw)}`);
    assert.ok(ms < 500, `took ${ms} ms`);
  });

  it("checks its options and the panel", () => {
    const panel = knownVar({ units: 2, steps: 40, a: 0.5, c: 0.5, seed: 1 });
    assert.throws(() => forecastMse(panel, ["own-past"], { lags: 0 }), /lags/);
    assert.throws(() => forecastMse(panel, ["own-past"], { trainShare: 0.9, testShare: 0.2 }), /trainShare/);
    assert.throws(() => forecastMse({ ...panel, steps: 20, values: panel.values.subarray(0, 2 * 20 * 3) }, ["own-past"]), /too few/);
    assert.throws(() => forecastMse({ ...panel, truth: undefined }, ["own-past"]), /no true graphs/);
    assert.ok(forecastMse(panel, ["own-past"], { node: "x2" })[0] > 0);
  });
});
