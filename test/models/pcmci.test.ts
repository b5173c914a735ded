import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type NodeRole, type Panel, sliceSteps, subsetUnits } from "../../lib/data/panel";
import { generateVarDag } from "../../lib/data/simulate";
import { scoreGraph, scoreGraphs, unitGraphs } from "../../lib/diagnostics/ranking";
import type { Graph } from "../../lib/graph";
import { fitPcmci, partialCorrelation, PCMCI_DEFAULTS, type PcmciResult, studentTwoSidedP } from "../../lib/models/pcmci";
import { Rng } from "../../lib/rng";

// ---------------------------------------------------------------------------------------------
// The test's own references
// ---------------------------------------------------------------------------------------------

/** Residuals of each of `ys` after projection on span(1, zs): modified Gram-Schmidt on the columns. */
function gramSchmidtResiduals(ys: number[][], zs: number[][]): number[][] {
  const n = ys[0].length;
  const basis: number[][] = [];
  for (const col of [new Array<number>(n).fill(1), ...zs]) {
    const v = [...col];
    for (const q of basis) {
      let d = 0;
      for (let r = 0; r < n; r++) d += q[r] * v[r];
      for (let r = 0; r < n; r++) v[r] -= d * q[r];
    }
    const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    basis.push(v.map((a) => a / norm));
  }
  return ys.map((y) => {
    const v = [...y];
    for (const q of basis) {
      let d = 0;
      for (let r = 0; r < n; r++) d += q[r] * v[r];
      for (let r = 0; r < n; r++) v[r] -= d * q[r];
    }
    return v;
  });
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((s, a) => s + a, 0) / n;
  const my = y.reduce((s, a) => s + a, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let r = 0; r < n; r++) {
    sxy += (x[r] - mx) * (y[r] - my);
    sxx += (x[r] - mx) ** 2;
    syy += (y[r] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Two-sided p-value of Student's t for an integer df, from the finite series for P(|T| < t)
 * (Abramowitz & Stegun 26.7.3 / 26.7.4, with theta = atan(t / sqrt(df))).
 */
function tTestP(t: number, df: number): number {
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df));
  const c2 = Math.cos(theta) ** 2;
  let a: number;
  if (df % 2 === 1) {
    let sum = 0;
    if (df > 1) {
      let term = Math.cos(theta);
      sum = term;
      for (let k = 3; k <= df - 2; k += 2) {
        term *= ((k - 1) / k) * c2;
        sum += term;
      }
    }
    a = (2 / Math.PI) * (theta + Math.sin(theta) * sum);
  } else {
    let term = 1;
    let sum = 1;
    for (let k = 2; k <= df - 2; k += 2) {
      term *= ((k - 1) / k) * c2;
      sum += term;
    }
    a = Math.sin(theta) * sum;
  }
  return 1 - a;
}

// ---------------------------------------------------------------------------------------------
// Test panels: a small linear VAR with a known DAG
// ---------------------------------------------------------------------------------------------

/** One true edge: sender j, receiver i, lag, weight. */
interface Edge {
  j: number;
  i: number;
  lag: number;
  w: number;
}

function makePanel(values: Float32Array, units: number, steps: number, nodes: number, graph: Graph | undefined, roles?: NodeRole[]): Panel {
  return {
    values,
    units,
    steps,
    nodes,
    nodeNames: Array.from({ length: nodes }, (_, i) => `x${i}`),
    roles: roles ?? Array.from({ length: nodes }, (_, i) => (i === nodes - 1 ? "target" : "intermediate")),
    unitIds: Array.from({ length: units }, (_, u) => `u${u}`),
    truth: graph ? { graphs: [graph], graphOfUnit: new Array<number>(units).fill(0) } : undefined,
    provenance: { generator: "pcmci-test-var", params: {} },
  };
}

/**
 * x_i(t) = ar_i x_i(t - 1) + sum_edges w x_j(t - lag) + e_i(t), e ~ N(0, 1), burn-in dropped;
 * each unit gets its own offset and scale per node (heterogeneous units).
 */
function simulateVar(N: number, edges: readonly Edge[], ar: readonly number[], units: number, steps: number, seed: number, burn = 60): Panel {
  const rng = new Rng(seed);
  const graph: Graph = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  for (const e of edges) graph[e.j][e.i] = 1;
  const maxLag = Math.max(1, ...edges.map((e) => e.lag));
  const values = new Float32Array(units * steps * N);
  for (let u = 0; u < units; u++) {
    const offset = Array.from({ length: N }, () => rng.range(-20, 20));
    const scale = Array.from({ length: N }, () => Math.exp(rng.range(-2, 2)));
    const hist: number[][] = Array.from({ length: maxLag }, () => new Array<number>(N).fill(0)); // hist[s - 1] = x(t - s)
    for (let t = -burn; t < steps; t++) {
      const x = Array.from({ length: N }, (_, i) => ar[i] * hist[0][i] + rng.normal());
      for (const e of edges) x[e.i] += e.w * hist[e.lag - 1][e.j];
      hist.pop();
      hist.unshift(x);
      if (t >= 0) for (let i = 0; i < N; i++) values[(u * steps + t) * N + i] = offset[i] + scale[i] * x[i];
    }
  }
  return makePanel(values, units, steps, N, graph);
}

/** 5 nodes, a DAG with chains (0 -> 1 -> 2 -> 4), a common driver (0 -> 1, 0 -> 3) and lags 1-3. */
const EDGES: Edge[] = [
  { j: 0, i: 1, lag: 1, w: 0.5 },
  { j: 1, i: 2, lag: 2, w: 0.45 },
  { j: 0, i: 3, lag: 1, w: -0.4 },
  { j: 2, i: 4, lag: 1, w: 0.4 },
  { j: 3, i: 4, lag: 3, w: 0.35 },
];
const AR = [0.6, 0.4, 0.5, 0.3, 0.5];

function offDiagonalPairs(N: number): [number, number][] {
  const out: [number, number][] = [];
  for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) if (i !== j) out.push([j, i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("partialCorrelation", () => {
  const rng = new Rng(11);
  const n = 150;
  const z1 = Array.from({ length: n }, () => rng.normal());
  const z2 = z1.map((v) => 0.8 * v + 0.3 * rng.normal()); // correlated with z1
  const z3 = Array.from({ length: n }, () => 2 + rng.normal());
  const x = z1.map((v, r) => 1.5 + 0.7 * v - 0.4 * z2[r] + 0.2 * z3[r] + rng.normal());
  const y = z1.map((v, r) => -3 + 0.5 * v + 0.3 * z3[r] + 0.3 * x[r] + rng.normal());

  it("equals the correlation of Gram-Schmidt residuals, for 0 to 3 conditioning variables", () => {
    const sets = [[], [z1], [z1, z2], [z1, z2, z3], [z3, z2]];
    for (const zs of sets) {
      const [rx, ry] = gramSchmidtResiduals([x, y], zs);
      const ref = pearson(rx, ry);
      const got = partialCorrelation(x, y, zs);
      assert.ok(Math.abs(got.r - ref) < 1e-10, `|Z| = ${zs.length}: ${got.r} vs ${ref}`);
      assert.equal(got.df, n - 2 - zs.length);
      assert.equal(got.n, n);
    }
  });

  it("matches the closed form for one conditioning variable and Pearson without one", () => {
    const rxy = pearson(x, y);
    const rxz = pearson(x, z1);
    const ryz = pearson(y, z1);
    const closed = (rxy - rxz * ryz) / Math.sqrt((1 - rxz ** 2) * (1 - ryz ** 2));
    assert.ok(Math.abs(partialCorrelation(x, y, [z1]).r - closed) < 1e-12);
    assert.ok(Math.abs(partialCorrelation(x, y).r - rxy) < 1e-12);
    // Float32 inputs too (what panels hold).
    const xf = Float32Array.from(x);
    const yf = Float32Array.from(y);
    assert.ok(Math.abs(partialCorrelation(xf, yf).r - pearson([...xf], [...yf])) < 1e-12);
  });

  it("p-values follow the t test with df = n - 2 - |Z|", () => {
    for (const zs of [[], [z1], [z1, z3], [z1, z2, z3]]) {
      const got = partialCorrelation(x, y, zs);
      const df = n - 2 - zs.length;
      const t = got.r * Math.sqrt(df / (1 - got.r ** 2));
      assert.ok(Math.abs(got.t - t) < 1e-9 * Math.max(1, Math.abs(t)));
      const ref = tTestP(t, df);
      assert.ok(Math.abs(got.pValue - ref) < 1e-12 + 1e-8 * ref, `|Z| = ${zs.length}: p ${got.pValue} vs ${ref}`);
    }
    // Independent noise: a moderate p-value; and the t distribution itself at a few points.
    const w = Array.from({ length: n }, () => rng.normal());
    const got = partialCorrelation(w, z3, [z1]);
    assert.ok(Math.abs(got.pValue - tTestP(got.t, n - 3)) < 1e-10);
    for (const [t, df] of [
      [0, 5],
      [1, 1],
      [2.5, 2],
      [-1.7, 7],
      [3.2, 40],
      [0.3, 300],
      [4.1, 1001],
    ] as const) {
      const ref = tTestP(t, df);
      assert.ok(Math.abs(studentTwoSidedP(t, df) - ref) < 1e-12 + 1e-8 * ref, `t = ${t}, df = ${df}: ${studentTwoSidedP(t, df)} vs ${ref}`);
    }
  });

  it("returns r = 0, p = 1 for a constant variable or one explained exactly by Z", () => {
    const c = new Array<number>(n).fill(4);
    assert.deepEqual([partialCorrelation(c, y).r, partialCorrelation(c, y).pValue], [0, 1]);
    const lin = z1.map((v, r) => 2 * v - z3[r]);
    const res = partialCorrelation(lin, y, [z1, z3]);
    assert.deepEqual([res.r, res.pValue], [0, 1]);
  });
});

describe("fitPcmci: a known linear graph", () => {
  const N = 5;
  const panel = simulateVar(N, EDGES, AR, 30, 120, 7);
  const truth = panel.truth!.graphs[0];
  const res = fitPcmci(panel);

  it("ranks every true edge above every non-edge (AUROC 1), at the true lag", () => {
    const auroc = scoreGraph(res.scores, truth).auroc;
    assert.ok(auroc >= 0.9, `AUROC ${auroc}`);
    const trueScores = offDiagonalPairs(N)
      .filter(([j, i]) => truth[j][i])
      .map(([j, i]) => res.scores[j][i]);
    const falseScores = offDiagonalPairs(N)
      .filter(([j, i]) => !truth[j][i])
      .map(([j, i]) => res.scores[j][i]);
    assert.ok(Math.min(...trueScores) > Math.max(...falseScores), `true ${trueScores} vs non-edges up to ${Math.max(...falseScores)}`);
    assert.equal(auroc, 1);
    for (const e of EDGES) {
      assert.equal(res.bestLag[e.j][e.i], e.lag, `edge ${e.j} -> ${e.i}`);
      assert.equal(Math.sign(res.statistic[e.j][e.i][e.lag - 1]), Math.sign(e.w));
    }
  });

  it("does not report the indirect paths of the chains (0 -> 2, 1 -> 4, 0 -> 4)", () => {
    for (const [j, i] of [
      [0, 2],
      [1, 4],
      [0, 4],
    ]) {
      assert.equal(res.support[j][i], 0, `${j} -> ${i} in the support (min p ${res.minPValue[j][i]})`);
      assert.ok(res.scores[j][i] < 0.08, `${j} -> ${i}: score ${res.scores[j][i]}`);
    }
  });

  it("selects the true parents in PC1 and keeps every true edge in the support", () => {
    for (const e of EDGES) {
      assert.ok(
        res.parents[e.i].some((p) => p.node === e.j && p.lag === e.lag),
        `parent x${e.j}(t-${e.lag}) of x${e.i} missing`,
      );
      assert.equal(res.support[e.j][e.i], 1);
    }
    for (let i = 0; i < N; i++) {
      assert.ok(
        res.parents[i].some((p) => p.node === i && p.lag === 1),
        `own lag of x${i} missing`,
      );
      // Strongest first (smallest |r| over the PC1 tests, decreasing), every test passed at pcAlpha.
      res.parents[i].forEach((p, k) => {
        assert.ok(p.maxPValue <= PCMCI_DEFAULTS.pcAlpha && p.minAbsStatistic > 0);
        if (k > 0) assert.ok(p.minAbsStatistic <= res.parents[i][k - 1].minAbsStatistic, `parents of x${i} out of order`);
      });
    }
    let falsePositives = 0;
    for (const [j, i] of offDiagonalPairs(N)) if (!truth[j][i] && res.support[j][i]) falsePositives++;
    // 20 non-edges x 3 lags at 0.05, uncorrected: about 20 x (1 - 0.95^3) = 2.9 false pairs expected.
    assert.ok(falsePositives <= 4, `${falsePositives} false edges at alpha 0.05`);
  });

  it("MCI statistics equal the test's own regression on the rows, with the receiver's and the shifted sender's parents", () => {
    const L = 3;
    const depth = L + Math.max(...res.parents.flat().map((p) => p.lag));
    // Per unit and node standardised series (population SD over all steps), rows t in [depth, T).
    const T = panel.steps;
    const z = (u: number, t: number, k: number) => {
      let m = 0;
      for (let s = 0; s < T; s++) m += panel.values[(u * T + s) * N + k];
      m /= T;
      let v = 0;
      for (let s = 0; s < T; s++) v += (panel.values[(u * T + s) * N + k] - m) ** 2;
      return (panel.values[(u * T + t) * N + k] - m) / Math.sqrt(v / T);
    };
    const column = (k: number, lag: number) => {
      const out: number[] = [];
      for (let u = 0; u < panel.units; u++) for (let t = depth; t < T; t++) out.push(z(u, t - lag, k));
      return out;
    };
    for (const [j, i, tau] of [
      [0, 1, 1],
      [1, 2, 2],
      [3, 4, 3],
      [0, 2, 3],
      [4, 0, 1],
      [2, 1, 2],
    ]) {
      const conds = new Map<string, [number, number]>();
      for (const p of res.parents[i]) if (!(p.node === j && p.lag === tau)) conds.set(`${p.node}:${p.lag}`, [p.node, p.lag]);
      for (const p of res.parents[j]) conds.set(`${p.node}:${p.lag + tau}`, [p.node, p.lag + tau]);
      const [rx, ry] = gramSchmidtResiduals(
        [column(j, tau), column(i, 0)],
        [...conds.values()].map(([k, s]) => column(k, s)),
      );
      const ref = pearson(rx, ry);
      assert.ok(Math.abs(res.statistic[j][i][tau - 1] - ref) < 1e-10, `${j} -> ${i} at lag ${tau}: ${res.statistic[j][i][tau - 1]} vs ${ref}`);
      const df = panel.units * (T - depth) - 2 - conds.size;
      assert.ok(Math.abs(res.pValue[j][i][tau - 1] - tTestP(ref * Math.sqrt(df / (1 - ref * ref)), df)) < 1e-9);
    }
  });

  it("pools rows within units only, and reports the configuration", () => {
    assert.equal(res.rows.pc1, 30 * (120 - 3));
    const extra = Math.max(...res.parents.flat().map((p) => p.lag));
    assert.equal(res.rows.mci, 30 * (120 - 3 - extra));
    assert.equal(res.mciTests, N * (N - 1) * 3);
    assert.deepEqual(res.config, { ...PCMCI_DEFAULTS, steps: { from: 0, to: 120 }, units: res.units });
    for (let i = 0; i < N; i++) assert.equal(res.scores[i][i], 0);
  });

  it("with a step window and units, equals the fit on the sliced panel; standardisation makes unit scales irrelevant", () => {
    const units = [3, 0, 17, 9, 22, 5, 11, 28, 14, 1];
    const a = fitPcmci(panel, { units, steps: { from: 10, to: 100 } });
    const b = fitPcmci(sliceSteps(subsetUnits(panel, units), 10, 100));
    const strip = (r: PcmciResult) => ({ ...r, config: undefined, units: undefined, steps: undefined });
    assert.deepEqual(strip(a), strip(b));
    assert.equal(a.rows.pc1, 10 * 87);
    // Rescaling and shifting one unit's node changes nothing after per-unit standardisation.
    const moved = { ...panel, values: Float32Array.from(panel.values) };
    for (let t = 0; t < panel.steps; t++) moved.values[(4 * panel.steps + t) * N + 2] = 1000 + 8 * panel.values[(4 * panel.steps + t) * N + 2];
    const c = fitPcmci(moved);
    for (const [j, i] of offDiagonalPairs(N)) assert.ok(Math.abs(c.scores[j][i] - res.scores[j][i]) < 1e-5, `${j} -> ${i}`);
  });

  it("rejects bad configurations", () => {
    assert.throws(() => fitPcmci(panel, { maxLag: 0 }), /maxLag/);
    assert.throws(() => fitPcmci(panel, { pcAlpha: 0 }), /pcAlpha/);
    assert.throws(() => fitPcmci(panel, { units: [0, 0] }), /twice/);
    assert.throws(() => fitPcmci(panel, { steps: { from: 0, to: 3 } }), /maxLag/);
    assert.throws(() => fitPcmci(panel, { roles: ["target"] }), /roles/);
  });
});

describe("fitPcmci: the VAR-DAG generator (linear)", () => {
  it("recovers the graph of generateVarDag({ linear: true }) with and without roles", () => {
    const sim = generateVarDag({ units: 30, steps: 120, graphs: 1, channels: 3, intermediates: 1, contextDim: 0, linear: true, lags: 2, seed: 5 });
    const truth = unitGraphs(sim.panel);
    const plain = fitPcmci(sim.panel);
    const roles = fitPcmci(sim.panel, { roles: sim.panel.roles });
    const aPlain = scoreGraphs(plain.scores, truth).pooled.auroc;
    const aRoles = scoreGraphs(roles.scores, truth).pooled.auroc;
    assert.ok(aPlain >= 0.9, `AUROC ${aPlain}`);
    assert.ok(aRoles >= aPlain - 1e-12, `roles ${aRoles} vs ${aPlain}`);
  });
});

describe("fitPcmci: pure noise", () => {
  it("selects false edges near the level at alpha 0.01, p-values near uniform, scores at the noise floor", () => {
    const N = 6;
    const ar = [0.7, 0.5, 0.8, 0.3, 0.6, 0.7]; // strong autocorrelation, no cross edges
    let tests = 0;
    let rejected = 0;
    let pairs = 0;
    let pairsSelected = 0;
    let pSum = 0;
    let crossParents = 0;
    let crossCandidates = 0;
    for (let seed = 0; seed < 4; seed++) {
      const panel = simulateVar(N, [], ar, 30, 120, 100 + seed);
      const res = fitPcmci(panel, { pcAlpha: 0.01, alpha: 0.01 });
      const floor = 1 / Math.sqrt(res.rows.mci);
      for (const [j, i] of offDiagonalPairs(N)) {
        pairs++;
        pairsSelected += res.support[j][i];
        assert.ok(res.scores[j][i] < 5 * floor, `seed ${seed}, ${j} -> ${i}: score ${res.scores[j][i]} vs floor ${floor}`);
        for (const p of res.pValue[j][i]) {
          tests++;
          pSum += p;
          if (p <= 0.01) rejected++;
        }
      }
      for (let i = 0; i < N; i++) {
        assert.ok(
          res.parents[i].some((p) => p.node === i && p.lag === 1),
          `seed ${seed}: own lag of x${i} missing`,
        );
        crossParents += res.parents[i].filter((p) => p.node !== i).length;
        crossCandidates += (N - 1) * 3;
      }
    }
    assert.equal(tests, 4 * 30 * 3);
    assert.ok(rejected <= 8, `${rejected} of ${tests} MCI tests rejected at 0.01`);
    assert.ok(pairsSelected <= 0.05 * pairs, `${pairsSelected} of ${pairs} pairs selected`);
    assert.ok(crossParents <= 0.05 * crossCandidates, `PC1 kept ${crossParents} of ${crossCandidates} cross candidates`);
    const meanP = pSum / tests;
    assert.ok(meanP > 0.4 && meanP < 0.6, `mean p-value ${meanP}`);
  });
});

describe("fitPcmci: role constraints", () => {
  it("zeroes the pairs into a channel and out of the target, even where the data have such an edge", () => {
    const N = 4;
    const roles: NodeRole[] = ["channel", "channel", "intermediate", "target"];
    // 3 (target) -> 0 (a channel) violates the roles; 0 -> 2 -> 3 and 1 -> 3 do not.
    const edges: Edge[] = [
      { j: 3, i: 0, lag: 1, w: 0.5 },
      { j: 0, i: 2, lag: 1, w: 0.5 },
      { j: 2, i: 3, lag: 1, w: 0.5 },
      { j: 1, i: 3, lag: 2, w: 0.4 },
    ];
    const base = simulateVar(N, edges, [0.5, 0.5, 0.4, 0.4], 20, 100, 21);
    const panel: Panel = { ...base, roles };
    const free = fitPcmci(panel);
    assert.equal(free.support[3][0], 1, "without roles the target -> channel edge is found");
    const res = fitPcmci(panel, { roles });
    for (let j = 0; j < N; j++) {
      for (let i = 0; i < N; i++) {
        const ruledOut = i === j || roles[i] === "channel" || roles[j] === "target";
        assert.equal(res.allowed[j][i], ruledOut ? 0 : 1, `allowed ${j} -> ${i}`);
        if (!ruledOut) continue;
        assert.equal(res.scores[j][i], 0, `score ${j} -> ${i}`);
        assert.equal(res.support[j][i], 0);
        assert.deepEqual(res.statistic[j][i], [0, 0, 0]);
        assert.deepEqual(res.pValue[j][i], [1, 1, 1]);
      }
    }
    // Channels' parents are their own lags only; the target is nobody else's parent.
    for (const i of [0, 1]) assert.ok(res.parents[i].every((p) => p.node === i));
    for (let i = 0; i < N - 1; i++) assert.ok(res.parents[i].every((p) => p.node !== 3));
    for (const [j, i] of [
      [0, 2],
      [2, 3],
      [1, 3],
    ])
      assert.equal(res.support[j][i], 1, `${j} -> ${i}`);
    assert.equal(res.mciTests, 5 * 3); // allowed: 0->2, 1->2, 0->3, 1->3, 2->3
  });
});

describe("fitPcmci: determinism", () => {
  it("gives identical output for the same input and for a copy of it", () => {
    const panel = simulateVar(5, EDGES, AR, 8, 80, 3);
    const copy: Panel = { ...panel, values: Float32Array.from(panel.values) };
    const a = fitPcmci(panel, { correction: "fdr-bh" });
    const b = fitPcmci(panel, { correction: "fdr-bh" });
    const c = fitPcmci(copy, { correction: "fdr-bh" });
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
    // BH-adjusted p-values are >= the raw ones.
    for (const [j, i] of offDiagonalPairs(5)) a.pValue[j][i].forEach((p, k) => assert.ok(a.adjustedPValue[j][i][k] >= p - 1e-15));
  });
});
