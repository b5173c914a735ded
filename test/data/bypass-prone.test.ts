import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isAcyclic } from "../../lib/graph";
import { BYPASS_PRONE_DEFAULTS, type BypassProneTruth, extraSeries, generateBypassProne } from "../../lib/data/bypass-prone";
import { readPanelCsv, writePanelCsv } from "../../lib/data/csv";
import { type GraphWorth, forecastMse } from "../../lib/data/graph-worth";
import { type Panel, nodeSeries } from "../../lib/data/panel";
import { contextHalfPoint, generateSparseTarget, geometricAdstock, hillSaturation, nodeLayout } from "../../lib/data/simulate";
import { assertSamePanel, tempDir } from "./helpers";

const SMALL = { units: 12, steps: 60, burnIn: 30 };

function corr(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) ** 2;
    syy += (y[k] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const mean = (a: readonly number[]) => a.reduce((x, y) => x + y, 0) / a.length;

/** Mean over units and channel pairs of the within-unit correlation of spend (pairs with a constant series skipped). */
function meanSpendCorrelation(panel: Panel): number {
  const C = panel.roles.filter((r) => r === "channel").length;
  const cs: number[] = [];
  for (let u = 0; u < panel.units; u++)
    for (let i = 0; i < C; i++)
      for (let j = i + 1; j < C; j++) {
        const c = corr(nodeSeries(panel, u, i), nodeSeries(panel, u, j));
        if (Number.isFinite(c)) cs.push(c);
      }
  return mean(cs);
}

/** Mean over units and channels of corr(spend_j(t), d(t - 1)), t = 1..T-1. */
function spendDemandCorrelation(panel: Panel, demand: number[][]): number {
  const C = panel.roles.filter((r) => r === "channel").length;
  const cs: number[] = [];
  for (let u = 0; u < panel.units; u++)
    for (let j = 0; j < C; j++) {
      const c = corr(nodeSeries(panel, u, j).slice(1), demand[u].slice(0, -1));
      if (Number.isFinite(c)) cs.push(c);
    }
  return mean(cs);
}

describe("bypass-prone benchmark", () => {
  it("is deterministic in its seed; another seed gives another panel and other graphs", () => {
    const a = generateBypassProne({ ...SMALL, seed: 5 });
    const b = generateBypassProne({ ...SMALL, seed: 5 });
    const c = generateBypassProne({ ...SMALL, seed: 6 });
    assertSamePanel(b.panel, a.panel);
    assert.deepEqual(b.panel.provenance, a.panel.provenance);
    assert.notDeepEqual(c.panel.values, a.panel.values);
    assert.notDeepEqual(c.panel.truth!.graphs, a.panel.truth!.graphs);
    assert.notDeepEqual(c.truth.demand, a.truth.demand);
  });

  it("with every route off it is the sparse-target panel of the same seed", () => {
    const off = { calendarShare: 0, budgetFeedback: 0, confounding: 0, contextLevel: 0, arTarget: [0.85, 0.95] as [number, number] };
    const a = generateBypassProne({ ...SMALL, seed: 3, ...off });
    const b = generateSparseTarget({ ...SMALL, seed: 3 });
    assertSamePanel(a.panel, b.panel);
    assert.deepEqual(a.truth.edges, b.truth.edges);
    // With the routes on, the graphs, parameters and contexts stay those of the sparse-target run.
    const on = generateBypassProne({ ...SMALL, seed: 3, arTarget: [0.85, 0.95] });
    assert.deepEqual(on.panel.truth, b.panel.truth);
    assert.deepEqual(on.panel.context, b.panel.context);
    assert.deepEqual(on.truth.channels, b.truth.channels);
    assert.notDeepEqual(on.panel.values, b.panel.values);
  });

  it("the true graph has the causal edges only: channels are roots, the target has 1-2 parents and no child, no latent node", () => {
    const { panel, truth, config } = generateBypassProne({ ...SMALL, units: 30, seed: 2 });
    const C = config.channels;
    const N = panel.nodes;
    assert.deepEqual(panel.nodeNames, nodeLayout(C, config.intermediates).names);
    assert.equal(panel.provenance.generator, "bypass-prone");
    for (const G of panel.truth!.graphs) {
      assert.ok(isAcyclic(G));
      for (let j = 0; j < C; j++) assert.equal(G.filter((row) => row[j]).length, 0, `channel ${panel.nodeNames[j]} is a root`);
      assert.ok(
        G[N - 1].every((v) => v === 0),
        "no edge out of the target",
      );
      const k = G.filter((row) => row[N - 1]).length;
      assert.ok(k === 1 || k === 2, `target parents ${k}`);
    }
    // The recorded edges are the graphs' edges, one for one.
    const fromGraphs = panel.truth!.graphs.flatMap((G, g) =>
      G.flatMap((row, j) => row.flatMap((v, i) => (v ? [`${g}:${panel.nodeNames[j]}->${panel.nodeNames[i]}`] : []))),
    );
    assert.deepEqual(truth.edges.map((e) => `${e.graph}:${e.source}->${e.target}`).sort(), fromGraphs.sort());
    assert.ok(truth.ar[N - 1] >= 0.8 && truth.ar[N - 1] <= 0.9);
    assert.ok(Math.abs(truth.shares[truth.shares.length - 1].achieved - config.targetShare) < 1e-9, "the target's parent share is calibrated");
  });

  it("records the routes' draws; the non-root equations hold with the recorded parameters and extra terms", () => {
    const { panel, truth, config } = generateBypassProne({ units: 30, steps: 200, seed: 4 });
    const p = panel.provenance.params as { config: typeof config; drawn: BypassProneTruth; graphWorth: GraphWorth };
    for (const k of ["calendarShare", "budgetFeedback", "demandAr", "confounding", "contextLevel"] as const)
      assert.equal(p.config[k], BYPASS_PRONE_DEFAULTS[k]);
    for (const k of ["graphOfUnit", "ar", "edges", "channels", "demand", "calendar", "extra", "budgetElasticity", "contextLoad"] as const)
      assert.ok(k in p.drawn, k);
    assert.deepEqual(p.drawn, truth);
    assert.equal(truth.demand.length, panel.units);
    assert.ok(truth.demand.every((d) => d.length === panel.steps));
    assert.ok(truth.calendar.every((s) => s.length === panel.steps && /^[01]+$/.test(s)));
    assert.ok(p.graphWorth.ownPast > 0);
    // Residual of every non-root equation with the recorded W, a_i, f_j and extra terms: the noise
    // (SD noiseSd, mean 0, unrelated to the demand). Adstock restarts at the panel's first step, so
    // steps before 40 are skipped.
    const { steps: T, nodes: N } = panel;
    const C = config.channels;
    const L = config.lags;
    const index = new Map(panel.nodeNames.map((n, i) => [n, i]));
    const K = config.contextDim;
    for (let i = C; i < N; i++) {
      const res: number[] = [];
      const dem: number[] = [];
      for (let u = 0; u < panel.units; u++) {
        const ctx = panel.context!.values.subarray(u * K, (u + 1) * K);
        const f = panel.nodeNames.map((_, j) => {
          const x = nodeSeries(panel, u, j);
          if (j >= C) return x;
          const ch = truth.channels[j];
          return Array.from(geometricAdstock(x, ch.adstock), (a) => hillSaturation(a, contextHalfPoint(ch, ctx), ch.slope));
        });
        const term = truth.extra.find((e) => e.node === panel.nodeNames[i]);
        const extra = term ? extraSeries(term, u, truth.demand[u]) : new Float64Array(T);
        const edges = truth.edges.filter((e) => e.graph === truth.graphOfUnit[u] && e.target === panel.nodeNames[i]);
        for (let t = 40; t < T; t++) {
          let r = f[i][t] - truth.ar[i] * f[i][t - 1] - extra[t];
          for (const e of edges) for (let l = 1; l <= L; l++) r -= e.weights[l - 1] * f[index.get(e.source)!][t - l];
          res.push(r);
          dem.push(truth.demand[u][t]);
        }
      }
      const m = mean(res);
      const sd = Math.sqrt(mean(res.map((v) => (v - m) ** 2)));
      assert.ok(Math.abs(m) < 0.07, `${panel.nodeNames[i]}: residual mean ${m}`);
      assert.ok(Math.abs(sd - config.noiseSd) < 0.05, `${panel.nodeNames[i]}: residual SD ${sd}`);
      assert.ok(Math.abs(corr(res, dem)) < 0.05, `${panel.nodeNames[i]}: residual vs demand ${corr(res, dem)}`);
    }
    // The target does load on the demand and its level on the context.
    const tgt = truth.extra[0];
    assert.equal(tgt.node, "target");
    assert.equal(tgt.demandLoad, config.confounding);
    assert.ok(Math.max(...tgt.level) - Math.min(...tgt.level) > 0.3, "the context shifts the target's level");
  });

  it("channels co-move and spend follows the previous step's demand", () => {
    for (const seed of [1, 2]) {
      const bp = generateBypassProne({ units: 30, seed });
      const sp = generateSparseTarget({ units: 30, seed });
      const cBp = meanSpendCorrelation(bp.panel);
      const cSp = meanSpendCorrelation(sp.panel);
      assert.ok(cBp > cSp + 0.15 && cBp > 0.15, `seed ${seed}: spend correlation ${cBp} vs sparse-target ${cSp}`);
      const dBp = spendDemandCorrelation(bp.panel, bp.truth.demand);
      assert.ok(dBp > 0.2, `seed ${seed}: corr(spend(t), d(t-1)) ${dBp}`);
      const flat = generateBypassProne({ units: 30, seed, budgetFeedback: 0 });
      const dFlat = spendDemandCorrelation(flat.panel, flat.truth.demand);
      assert.ok(Math.abs(dFlat) < 0.05, `seed ${seed}: without budget feedback ${dFlat}`);
      // The calendar alone makes channels co-move.
      const cal = meanSpendCorrelation(generateBypassProne({ units: 30, seed, budgetFeedback: 0 }).panel);
      const noCal = meanSpendCorrelation(generateBypassProne({ units: 30, seed, budgetFeedback: 0, calendarShare: 0 }).panel);
      assert.ok(cal > noCal + 0.1, `seed ${seed}: calendar ${cal} vs none ${noCal}`);
    }
  });

  it("precondition at the defaults: all nodes and non-parent channels beat own past at MSE@7 for the target", (t) => {
    for (const seed of [1, 2, 3]) {
      const { panel } = generateBypassProne({ seed });
      assert.deepEqual([panel.units, panel.steps, panel.nodes], [100, 200, 8]);
      const [own, parents, all, nonParent] = forecastMse(panel, ["own-past", "true-parents", "all-nodes", "non-parent-channels"]);
      const gw = panel.provenance.params.graphWorth as GraphWorth;
      assert.deepEqual([gw.ownPast, gw.trueParents, gw.allNodes, gw.nonParentChannels], [own, parents, all, nonParent]);
      t.diagnostic(
        `seed ${seed}: target MSE@7 own past ${own.toFixed(4)}, true parents ${parents.toFixed(4)}, all nodes ${all.toFixed(4)}, ` +
          `non-parent channels ${nonParent.toFixed(4)} (ratios ${(own / parents).toFixed(3)}, ${(own / all).toFixed(3)}, ${(own / nonParent).toFixed(3)})`,
      );
      assert.ok(own / all > 1.2, `seed ${seed}: all nodes ${all} vs own past ${own}`);
      assert.ok(own / nonParent > 1.05, `seed ${seed}: non-parent channels ${nonParent} vs own past ${own}`);
    }
  });

  it("round-trips through CSV with its provenance, and checks the routes' settings", () => {
    const res = generateBypassProne({ ...SMALL, seed: 8 });
    const file = join(tempDir(), "bypass-prone.csv");
    writePanelCsv(res.panel, file);
    const back = readPanelCsv(file);
    assertSamePanel(back, res.panel);
    assert.deepEqual(back.provenance.params, JSON.parse(JSON.stringify(res.panel.provenance.params)));
    assert.throws(() => generateBypassProne({ ...SMALL, calendarShare: 1.5 }), /calendarShare/);
    assert.throws(() => generateBypassProne({ ...SMALL, demandAr: 1 }), /demandAr/);
    assert.throws(() => generateBypassProne({ ...SMALL, confounding: -1 }), /confounding/);
    assert.throws(() => generateBypassProne({ ...SMALL, targetShare: 0.3, parentShareTarget: 0.2 }), /targetShare/);
  });
});
