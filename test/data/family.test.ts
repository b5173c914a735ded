import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAcyclic } from "../../lib/graph";
import {
  EVALUATION_FAMILY,
  type FamilyResult,
  companionSpectralRadius,
  familyConfig,
  familyPanel,
  generateLinearFamily,
  generateMediaFamily,
  graphForecastGain,
  ownRootModulus,
} from "../../lib/data/family";
import { fitVarOls } from "../../lib/data/ols";
import { type Panel, at, distinctGraphs, nodeSeries, validatePanel } from "../../lib/data/panel";
import { pearsonByHand } from "../stats";
import { spendProfile } from "./helpers";

/** Few units, so that every member builds in well under a second. */
const FEW = { units: 6 };

const series = nodeSeries;

function mean(a: readonly number[]): number {
  return a.reduce((x, y) => x + y, 0) / a.length;
}

function sd(a: readonly number[]): number {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
}

/** The structural conventions every panel of the family keeps. */
function assertStructure(r: FamilyResult): void {
  const { panel, truth } = r;
  const N = panel.nodes;
  const tgt = N - 1;
  const isChannel = (i: number) => panel.roles[i] === "channel";
  truth.graphs.forEach((G, g) => {
    assert.ok(isAcyclic(G), `${r.member}: graph ${g} is a DAG`);
    for (let j = 0; j < N; j++) {
      assert.equal(G[j][j], 0, "no self-loop");
      assert.equal(G[tgt][j], 0, `${r.member}: no edge out of the target (graph ${g})`);
      for (let i = 0; i < N; i++) {
        if (G[j][i] && isChannel(i)) assert.ok(isChannel(j), `${r.member}: ${panel.nodeNames[j]} -> channel ${panel.nodeNames[i]} (graph ${g})`);
      }
    }
    for (let i = 0; i < N; i++) {
      if (!isChannel(i))
        assert.ok(
          G.some((row) => row[i]),
          `${r.member}: ${panel.nodeNames[i]} has a parent in graph ${g}`,
        );
    }
    for (const name of truth.inertChannels) {
      const j = panel.nodeNames.indexOf(name);
      assert.ok(
        G[j].every((v) => v === 0),
        `inert ${name} has no children`,
      );
    }
    // The edge list is the graph, and every edge has a lag set within 1..4.
    const listed = truth.edges.filter((e) => e.graph === g);
    assert.equal(listed.length, G.flat().filter((v) => v).length);
    for (const e of listed) {
      assert.equal(G[panel.nodeNames.indexOf(e.from)][panel.nodeNames.indexOf(e.to)], 1, `${e.from} -> ${e.to} is in graph ${g}`);
      assert.ok(e.lags.length >= 1 && e.lags.length === e.weights.length);
      assert.ok(
        e.lags.every((s) => Number.isInteger(s) && s >= 1 && s <= 4),
        `lags ${e.lags}`,
      );
      assert.equal(new Set(e.lags).size, e.lags.length, "distinct lags");
      assert.ok(e.weights.every((w) => Number.isFinite(w)));
    }
  });
}

describe("evaluation family: every member", () => {
  it("lists the documented members, each with a configuration that passes the checks", () => {
    assert.deepEqual(
      EVALUATION_FAMILY.map((m) => m.name),
      ["linear-short", "linear-long", "media-short", "media-per-unit", "hetero-scales", "confounded"],
    );
    for (const m of EVALUATION_FAMILY) assert.doesNotThrow(() => familyConfig(m.config), m.name);
    const long = familyConfig(EVALUATION_FAMILY[1].config);
    assert.deepEqual([long.units, long.steps], [100, 400]);
    for (const m of EVALUATION_FAMILY.filter((x) => x.name !== "linear-long")) {
      const c = familyConfig(m.config);
      assert.ok(c.units >= 30 && c.units <= 60 && c.steps >= 100 && c.steps <= 150, `${m.name} is a short panel`);
    }
  });

  for (const m of EVALUATION_FAMILY) {
    it(`${m.name}: deterministic in its seed, different across seeds; shape, roles, truth and provenance`, () => {
      const a = familyPanel(m, 11, FEW);
      const b = familyPanel(m.name, 11, FEW);
      const c = familyPanel(m, 12, FEW);
      assert.deepEqual(a.panel.values, b.panel.values);
      assert.deepEqual(a.truth, b.truth);
      assert.deepEqual(a.panel.provenance, b.panel.provenance);
      assert.notDeepEqual(a.panel.values, c.panel.values);

      const { panel, config } = a;
      const N = config.channels + config.intermediates + 1;
      assert.deepEqual([panel.units, panel.steps, panel.nodes], [config.units, config.steps, N]);
      assert.equal(panel.values.length, panel.units * panel.steps * N);
      assert.deepEqual(panel.roles, [...Array(config.channels).fill("channel"), ...Array(config.intermediates).fill("intermediate"), "target"]);
      assert.equal(new Set(panel.nodeNames).size, N);
      assert.equal(panel.unitIds.length, panel.units);
      validatePanel(panel, { requireDag: true, targetIsSink: true, nonNegativeChannels: config.kind === "media" });
      assert.deepEqual(panel.truth, { graphs: a.truth.graphs, graphOfUnit: a.truth.graphOfUnit });

      const prov = panel.provenance;
      assert.equal(prov.generator, "evaluation-family");
      assert.equal(prov.seed, 11);
      assert.equal(prov.params.member, m.name);
      assert.equal(prov.params.kind, config.kind);
      assert.deepEqual(prov.params.config, config);
      const back = JSON.parse(JSON.stringify(prov));
      assert.deepEqual(back.params.drawn.edges, a.truth.edges);
      const gain = prov.params.graphForecast as FamilyResult["graphForecast"];
      assert.equal(gain.horizon, 7);
      assert.ok(Number.isFinite(gain.ratio) && gain.ratio > 0, `MSE@7 ratio ${gain.ratio}`);
      assert.equal(gain.ratio, gain.mseOwnPast / gain.mseParents);
      assertStructure(a);
      assertStructure(c);
    });
  }
});

describe("evaluation family: structure", () => {
  it("holds the conventions over many drawn graphs (per-unit, with channel -> channel edges and inert channels)", () => {
    const lin = generateLinearFamily(
      { units: 30, steps: 100, channels: 4, intermediates: 3, graph: { density: 0.6, inertChannels: 1, sharing: { mode: "per-unit" } } },
      3,
    );
    assertStructure(lin);
    const chanEdges = lin.truth.graphs.filter((G) => G.some((row, j) => j < 4 && row.slice(0, 4).some((v) => v))).length;
    assert.ok(chanEdges > 5, `channel -> channel edges occur in the linear kind (${chanEdges} graphs)`);
    const lags = new Set(lin.truth.edges.flatMap((e) => e.lags));
    assert.deepEqual([...lags].sort(), [1, 2, 3, 4], "every lag 1..4 occurs");
    assert.ok(lin.truth.edges.some((e) => e.lags.length > 1) && lin.truth.edges.some((e) => e.lags.length === 1));
    assert.ok(lin.truth.edges.some((e) => e.weights[0] < 0) && lin.truth.edges.some((e) => e.weights[0] > 0), "mixed signs");
    // Index order is not the causal order: some funnel edge runs from a higher to a lower index.
    assert.ok(lin.truth.edges.some((e) => e.from.startsWith("funnel") && e.to.startsWith("funnel") && e.from > e.to));

    const med = familyPanel("media-per-unit", 5);
    assertStructure(med);
    for (const G of med.truth.graphs)
      for (let i = 0; i < 3; i++)
        assert.ok(
          G.every((row) => row[i] === 0),
          "media channels are roots",
        );
    for (const e of med.truth.edges)
      if (e.from.startsWith("chan"))
        assert.ok(
          e.weights.every((w) => w > 0),
          "media effects are positive",
        );
  });

  it("per-unit members have a different graph per unit, group members K graphs, shared members one", () => {
    const per = familyPanel("media-per-unit", 2);
    assert.equal(per.truth.graphs.length, per.panel.units);
    assert.equal(distinctGraphs(per.panel).count, per.panel.units, "every unit its own graph");

    const shared = familyPanel("media-short", 2, FEW);
    assert.equal(shared.truth.graphs.length, 1);
    assert.ok(shared.truth.graphOfUnit.every((g) => g === 0));
    assert.equal(distinctGraphs(shared.panel).count, 1);

    const groups = familyPanel("linear-long", 2, { units: 9 });
    assert.equal(distinctGraphs(groups.panel).count, 3);
    assert.deepEqual(
      [0, 1, 2].map((g) => groups.truth.graphOfUnit.filter((k) => k === g).length),
      [3, 3, 3],
    );
  });

  it("rejects configurations outside the family's conventions", () => {
    assert.throws(() => familyConfig({ graph: { maxLag: 5 } }), /maxLag must be at most 4/);
    assert.throws(() => familyConfig({ graph: { lagsPerEdge: [0, 2] } }), /lagsPerEdge/);
    assert.throws(() => familyConfig({ graph: { inertChannels: 3 } }), /inertChannels/);
    assert.throws(() => familyConfig({ dynamics: { ownRadiusMax: 1 } }), /ownRadiusMax/);
    assert.throws(() => familyConfig({ steps: 12 }), /too few/);
    assert.throws(() => familyPanel("no-such-member", 1), /members: linear-short/);
  });
});

describe("evaluation family: dynamics", () => {
  it("the spectral radius helpers agree with known matrices", () => {
    assert.ok(
      Math.abs(
        companionSpectralRadius([
          [0.5, 3],
          [0, 0.9],
        ]) - 0.9,
      ) < 1e-6,
    );
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    assert.ok(
      Math.abs(
        companionSpectralRadius([
          [0.8 * c, -0.8 * s],
          [0.8 * s, 0.8 * c],
        ]) - 0.8,
      ) < 1e-6,
      "a rotation",
    );
    assert.equal(
      companionSpectralRadius([
        [0, 1],
        [0, 0],
      ]),
      0,
      "nilpotent",
    );
    assert.ok(Math.abs(ownRootModulus(0.5, 0.3) - (0.5 + Math.sqrt(0.25 + 1.2)) / 2) < 1e-12);
    assert.ok(Math.abs(ownRootModulus(0.2, -0.64) - 0.8) < 1e-12, "complex roots");
  });

  it("a linear member is stable: companion radius below 1 (the largest own root), finite, variance not growing over a long run", () => {
    const r = generateLinearFamily(
      {
        units: 2,
        steps: 4000,
        channels: 3,
        intermediates: 4,
        dynamics: { ownAr1: [0.8, 0.99], ownAr2: [0, 0.2], weightRange: [0.5, 1], snr: [3, 5], targetSnr: [3, 5] },
      },
      2,
    );
    const { panel, truth } = r;
    assert.ok(truth.spectralRadius[0] < 1);
    assert.ok(Math.abs(truth.spectralRadius[0] - truth.ownRootMax) < 1e-3, `companion ${truth.spectralRadius[0]} vs own roots ${truth.ownRootMax}`);
    assert.ok(truth.ownRootMax <= 0.95 + 1e-12, "own AR rescaled within ownRadiusMax");
    assert.ok(panel.values.every((v) => Number.isFinite(v)));
    const T = panel.steps;
    for (let i = 0; i < panel.nodes; i++) {
      for (let u = 0; u < panel.units; u++) {
        const s = series(panel, u, i);
        const ratio = sd(s.slice(T / 2)) ** 2 / sd(s.slice(0, T / 2)) ** 2;
        assert.ok(ratio > 0.4 && ratio < 2.5, `${panel.nodeNames[i]} unit ${u}: variance ratio of the halves ${ratio}`);
      }
    }
  });

  it("a small linear member is recovered by a least-squares VAR: true edges significant at their own lags, non-edges not", () => {
    const r = generateLinearFamily(
      {
        units: 30,
        steps: 150,
        channels: 2,
        intermediates: 2,
        graph: { density: 0.5, lagsPerEdge: [1, 2] },
        dynamics: { weightRange: [0.5, 1], snr: [1.5, 2.5], targetSnr: [1.5, 2.5] },
      },
      1,
    );
    const { panel } = r;
    const G = panel.truth!.graphs[0];
    const N = panel.nodes;
    const fit = fitVarOls(panel, { lags: 4 });
    let minEdge = Infinity;
    let maxNonEdge = 0;
    for (let j = 0; j < N; j++) {
      for (let i = 0; i < N; i++) {
        if (i === j) continue;
        if (G[j][i]) minEdge = Math.min(minEdge, fit.wald[j][i]);
        else maxNonEdge = Math.max(maxNonEdge, fit.wald[j][i]);
      }
    }
    assert.ok(r.truth.edges.length >= 4);
    assert.ok(minEdge > 100, `smallest Wald statistic of a true edge ${minEdge}`);
    assert.ok(maxNonEdge < 30, `largest Wald statistic of a non-edge ${maxNonEdge} (chi-squared, 4 df)`);
    for (const e of r.truth.edges) {
      const j = panel.nodeNames.indexOf(e.from);
      const i = panel.nodeNames.indexOf(e.to);
      const c = fit.coef[i][j];
      const strongest = c.map(Math.abs).indexOf(Math.max(...c.map(Math.abs))) + 1;
      assert.ok(e.lags.includes(strongest), `${e.from} -> ${e.to}: strongest fitted lag ${strongest}, true lags ${e.lags}`);
      e.lags.forEach((s, a) => assert.equal(Math.sign(c[s - 1]), Math.sign(e.weights[a]), `${e.from} -> ${e.to} lag ${s}: sign`));
    }
  });

  it("media channels are spend with flights, bursts and zeros", () => {
    const { panel, config, truth } = familyPanel("media-short", 4, { units: 10 });
    const { zeros, zeroRuns: offRuns, bursty } = spendProfile(panel, config.channels, { zeroRun: 2 });
    assert.ok(zeros > 0 && offRuns > 10, `zeros ${zeros}, off periods ${offRuns}`);
    assert.ok(bursty > 3, `bursty series ${bursty}`);
    assert.equal(truth.channels!.length, config.channels);
    assert.ok(truth.channels!.every((c) => c.adstock > 0 && c.adstock < 1 && c.hillSlope > 0 && c.halfPoint > 0));
  });
});

describe("evaluation family: switches", () => {
  it("heterogeneous scales span orders of magnitude, non-spend nodes get positive levels, spend keeps its zeros", () => {
    const { panel, truth, config } = familyPanel("hetero-scales", 3, { units: 10 });
    const nodeSd = panel.nodeNames.map((_, i) => mean(Array.from({ length: panel.units }, (_, u) => sd(series(panel, u, i)))));
    assert.ok(Math.max(...nodeSd) / Math.min(...nodeSd) > 100, `node SDs ${nodeSd.map((v) => v.toExponential(1)).join(", ")}`);
    const spread = panel.nodeNames.map((_, i) => {
      const s = Array.from({ length: panel.units }, (_, u) => sd(series(panel, u, i)));
      return Math.max(...s) / Math.min(...s);
    });
    assert.ok(
      spread.some((v) => v > 3),
      "units differ in scale within a node",
    );
    for (let i = config.channels; i < panel.nodes; i++) {
      for (let u = 0; u < panel.units; u++)
        assert.ok(
          series(panel, u, i).every((v) => v > 0),
          `${panel.nodeNames[i]} is a positive level`,
        );
    }
    assert.ok(series(panel, 0, 0).some((v) => v === 0) || series(panel, 1, 0).some((v) => v === 0), "spend zeros stay zeros");
    assert.ok(truth.scales && truth.scales.node.length === panel.nodes);
  });

  it("scales and offsets do not change the MSE@7 ratio (each series is standardised on its training window)", () => {
    const on = familyPanel("hetero-scales", 8, { units: 8 });
    const off = familyPanel("hetero-scales", 8, { units: 8, scales: { enabled: false } });
    assert.deepEqual(on.truth.graphs, off.truth.graphs);
    assert.ok(
      Math.abs(on.graphForecast.ratio - off.graphForecast.ratio) < 1e-3 * off.graphForecast.ratio,
      `${on.graphForecast.ratio} vs ${off.graphForecast.ratio}`,
    );
  });

  it("the confounder makes an inert channel move with the target; without it (same seed) they are unrelated", () => {
    const meanCorr = (strength: number) => {
      const r = familyPanel("confounded", 1, { units: 20, confounder: { strength } });
      const p = r.panel;
      const j = p.nodeNames.indexOf(r.truth.inertChannels[0]);
      assert.ok(
        p.truth!.graphs.every((G) => G[j].every((v) => v === 0)),
        "the inert channel is no parent of anything",
      );
      return { r, c: mean(Array.from({ length: p.units }, (_, u) => pearsonByHand(series(p, u, j), series(p, u, p.nodes - 1)))) };
    };
    const withConf = meanCorr(1);
    const without = meanCorr(0);
    assert.deepEqual(withConf.r.truth.graphs, without.r.truth.graphs, "the same graph");
    assert.deepEqual(withConf.r.latent, without.r.latent, "the same shock, switched off");
    assert.ok(
      withConf.r.truth.confounded.some((x) => x.node === withConf.r.truth.inertChannels[0]) && withConf.r.truth.confounded.some((x) => x.node === "sales"),
    );
    assert.deepEqual(without.r.truth.confounded, []);
    assert.ok(withConf.c > 0.1, `correlation of the inert channel with the target, confounded: ${withConf.c}`);
    assert.ok(Math.abs(without.c) < 0.05, `without the confounder: ${without.c}`);
  });
});

describe("evaluation family: MSE@7 ratio of own-past to true-parent forecasts", () => {
  it("is about 1 when the target's parents carry nothing and well above 1 when they carry much", () => {
    const base = { units: 20, steps: 150, channels: 2, intermediates: 1 };
    const none = generateLinearFamily({ ...base, dynamics: { targetSnr: [0, 0] } }, 4);
    const much = generateLinearFamily({ ...base, dynamics: { targetSnr: [4, 4], weightRange: [0.5, 1] } }, 4);
    assert.ok(none.graphForecast.ratio > 0.95 && none.graphForecast.ratio < 1.03, `no parent signal: ${none.graphForecast.ratio}`);
    assert.ok(much.graphForecast.ratio > 1.3, `strong parents: ${much.graphForecast.ratio}`);
    // A channel without parents has the same forecaster in both: ratio 1 exactly.
    const roots = much.panel.nodeNames.map((_, i) => i).filter((i) => much.panel.truth!.graphs[0].every((row) => row[i] === 0));
    for (const i of roots) assert.equal(much.graphForecast.byNode[i].ratio, 1);
    // The provenance record is the function's result on the panel.
    assert.deepEqual(graphForecastGain(much.panel), much.graphForecast);
  });

  it("media members record it too (and the media generator is the media kind)", () => {
    const r = generateMediaFamily({ units: 8, steps: 100 }, 1);
    assert.equal(r.config.kind, "media");
    const g = r.panel.provenance.params.graphForecast as FamilyResult["graphForecast"];
    assert.ok(g.ratio > 0 && Number.isFinite(g.mseOwnPast) && Number.isFinite(g.mseParents));
    assert.equal(g.byNode.length, r.panel.nodes);
  });
});
