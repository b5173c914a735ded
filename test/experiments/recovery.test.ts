/**
 * Graph recovery on the evaluation family (lib/experiments/recovery.ts) and the rule that picks
 * the graph diagnose reports (lib/experiments/choice.ts): scores over all pairs and within the
 * role-consistent pairs, the rule choosing the right graph over a wrong one without the truth,
 * the warning on pure noise, and each method recovering a known graph.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { type Panel, allowedPairs } from "../../lib/data/panel";
import { forecastEvidenceCurve, probeData, validationError } from "../../lib/diagnostics/evidence";
import { chooseAmong, chooseGraph, consensusGraph } from "../../lib/experiments/choice";
import { trainStage1 } from "../../lib/experiments/dice";
import { panelFromSpec } from "../../lib/experiments/jobs";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import { recoveryCore, recoveryExtra, recoveryScores, recoveryVerdicts, type RecoveryRow } from "../../lib/experiments/recovery";
import type { Graph } from "../../lib/graph";
import { Rng } from "../../lib/rng";
import { linearPanel } from "./fixtures";

before(async () => {
  await initBackend(undefined, null);
});

const transpose = (g: Graph): Graph => g.map((row, j) => row.map((_, i) => g[i][j]));

/** Independent white noise: no node's past says anything about another's future. */
function noisePanel(seed: number, units = 16, steps = 100, nodes = 5): Panel {
  const base = linearPanel(seed, { units, steps });
  const rng = new Rng(seed);
  const values = new Float32Array(units * steps * nodes);
  for (let k = 0; k < values.length; k++) values[k] = rng.normal();
  return { ...base, values, truth: undefined };
}

/**
 * Channel 0 is spent in flights (6 steps on, 6 off, each unit at its own phase, plus noise), channels 1-2 and the
 * intermediate are noise, and the target integrates channel 0: y(t) = 0.9 y(t-1) + 0.6 x0(t-1) +
 * e. The one true edge is 0 -> target; the target's past, which holds channel 0's whole history,
 * also tells how long the current flight has run, so it forecasts the flight's end, which the channel's own two lags do not: the
 * reverse pair lowers held-out error without being a cause.
 */
function flightPanel(seed: number, units = 20, steps = 120): Panel {
  const base = linearPanel(seed, { units, steps });
  const rng = new Rng(seed);
  const N = base.nodes;
  const target = N - 1;
  const values = new Float32Array(units * steps * N);
  for (let u = 0; u < units; u++) {
    const phase = Math.floor(12 * rng.uniform());
    let y = 0;
    let x = 0;
    for (let t = 0; t < steps; t++) {
      const row = (u * steps + t) * N;
      y = 0.9 * y + 0.6 * x + 0.3 * rng.normal();
      x = ((t + phase) % 12 < 6 ? 1 : 0) + 0.1 * rng.normal();
      for (let i = 0; i < N; i++) values[row + i] = rng.normal();
      values[row] = x;
      values[row + target] = y;
    }
  }
  return { ...base, values, truth: undefined };
}

describe("recoveryScores", () => {
  it("scores every pair and, apart, the pairs the roles allow: a ranking that puts ruled-out pairs first loses only the all-pairs score", () => {
    // nodes: channel 0, intermediate 1, target 2; truth 0 -> 1 -> 2
    const roles = ["channel", "intermediate", "target"] as const;
    const truth: Graph = [
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 0],
    ];
    const allowed = allowedPairs(3, [...roles]);
    // the allowed pairs are 0 -> 1, 0 -> 2, 1 -> 2
    assert.deepEqual(allowed, [
      [0, 1, 1],
      [0, 0, 1],
      [0, 0, 0],
    ]);
    // true edges first among the allowed pairs, but the ruled-out pairs 1 -> 0, 2 -> 0, 2 -> 1 above everything
    const scores: Graph = [
      [0, 0.5, 0.1],
      [0.9, 0, 0.4],
      [0.8, 0.7, 0],
    ];
    const s = recoveryScores([scores], [truth], allowed);
    assert.equal(s.withinAuroc, 1, "within the allowed pairs both true edges outrank 0 -> 2");
    // all pairs: the true edges (0.5, 0.4) outrank only 0 -> 2 (0.1) of the four negatives: AUROC 2 / 8
    assert.equal(s.auroc, 0.25);
    const perfect = recoveryScores([truth], [truth], allowed);
    assert.equal(perfect.auroc, 1);
    assert.equal(perfect.nauprc, 1);
    assert.throws(() => recoveryScores([scores, scores], [truth], allowed), /2 graphs for 1 units/);
  });
});

describe("consensusGraph", () => {
  it("averages normalised ranks over the allowed pairs (ties share their mean rank), whatever each graph's scale", () => {
    const allowed = [
      [0, 1, 1],
      [0, 0, 1],
      [0, 0, 0],
    ];
    // pairs in order 0->1, 0->2, 1->2; a ranks them 3, 1, 2 (of 3); b (another scale) ties the first two
    const a = [
      [0, 30, 10],
      [9, 0, 20],
      [9, 9, 0],
    ];
    const b = [
      [0, 0.5, 0.5],
      [0, 0, 0.9],
      [0, 0, 0],
    ];
    const c = consensusGraph([a, b], allowed);
    const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
    close(c[0][1], (3 / 3 + 1.5 / 3) / 2);
    close(c[0][2], (1 / 3 + 1.5 / 3) / 2);
    close(c[1][2], (2 / 3 + 3 / 3) / 2);
    assert.equal(c[1][0], 0, "ruled-out pairs stay 0 whatever the scores");
  });
});

describe("the rule diagnose reports a graph by", () => {
  it("picks the true graph over a wrong one (its transpose, or a reversed ranking) without seeing the truth, either way round", () => {
    const tp = prepareTimePanel(linearPanel(8, { units: 20, steps: 120 }));
    const truth = tp.truth![0];
    const wrong = transpose(truth);
    const reversed = truth.map((row) => row.map((v) => 1 - v));
    for (const [right, bad] of [
      ["granger-pooled", "dice-stage1"],
      ["dice-stage1", "pcmci"],
    ] as const) {
      for (const w of [wrong, reversed]) {
        const c = chooseAmong(tp, { [right]: { scores: truth, seconds: 0 }, [bad]: { scores: w, seconds: 0 } }, { seed: 3 });
        assert.equal(c.chosen, right, `${right} (the truth) over ${bad} (wrong)`);
        const zRight = c.candidates.find((k) => k.source === right)!.z;
        const zBad = c.candidates.find((k) => k.source === bad)!.z;
        // 5 nodes cap a perfect ranking's z near 2-3.5 (lib/diagnostics/evidence.ts); measured here about 1.9 against -0.2
        assert.ok(zRight > zBad + 1.5, `z ${zRight} against ${zBad}`);
      }
    }
  });

  it("judges rankings by the outcome nodes' forecasts: a reverse pair into a channel that forecasts the channel's calendar earns nothing", () => {
    const tp = prepareTimePanel(flightPanel(4));
    const N = tp.panel.nodes;
    const target = N - 1;
    assert.deepEqual(tp.panel.roles.slice(0, 3), ["channel", "channel", "channel"]);
    const one = (j: number, i: number): Graph => Array.from({ length: N }, (_, a) => Array.from({ length: N }, (_, b) => (a === j && b === i ? 1 : 0)));
    // the reverse ranking puts the true pair last
    const reverse = one(target, 0);
    reverse[0][target] = -1;
    const candidates = { "granger-pooled": { scores: one(0, target), seconds: 0 }, pcmci: { scores: reverse, seconds: 0 } };
    const zOf = (c: ReturnType<typeof chooseAmong>, s: string) => c.candidates.find((k) => k.source === s)!.z;
    // the mechanism: the target's past lowers channel 0's held-out error (measured: 0.552 -> 0.513)
    const probe = probeData(tp.panel, { lags: 2, train: tp.split.train, validation: tp.split.validation });
    const own = validationError(probe, 0, []);
    const withTarget = validationError(probe, 0, [target]);
    assert.ok(withTarget < 0.95 * own, `channel 0's relative error ${own.toFixed(3)} on its own lags, ${withTarget.toFixed(3)} with the target's`);
    // judged on the outcome nodes, that pair lowers nothing
    const curve = forecastEvidenceCurve(tp.panel, reverse, { lags: 2, train: tp.split.train, validation: tp.split.validation, receivers: [3, target] });
    assert.equal(curve.order[0].from, target);
    assert.equal(curve.curve[1], curve.curve[0]);
    const outcomes = chooseAmong(tp, candidates, { lags: 2, seed: 3, judge: "outcomes" });
    assert.equal(outcomes.chosen, "granger-pooled", `z ${zOf(outcomes, "granger-pooled")} vs ${zOf(outcomes, "pcmci")}`);
    assert.deepEqual(outcomes.tied, ["granger-pooled"], "the true pair wins by more than the margin, so no tie rule decides");
    assert.ok(zOf(outcomes, "granger-pooled") > zOf(outcomes, "pcmci") + 1);
  });

  it("reports the tie-break candidate when forecasts cannot tell the best apart, their consensus with tieBreak consensus, and never overrides a clear winner", () => {
    const tp = prepareTimePanel(linearPanel(8, { units: 20, steps: 120 }));
    const truth = tp.truth![0];
    // two rankings of the same support that differ only below it: forecasts cannot tell them apart
    const rng = new Rng(2);
    const jitter = (g: Graph): Graph => g.map((row, j) => row.map((v, i) => (i === j ? 0 : v + 0.5 * rng.uniform())));
    const a = jitter(truth);
    const b = jitter(truth);
    const tie = chooseAmong(tp, { "granger-pooled": { scores: a, seconds: 0 }, pcmci: { scores: b, seconds: 0 } }, { seed: 3 });
    assert.equal(tie.tied.length, 2, `z ${tie.candidates.map((k) => k.z.toFixed(2)).join(", ")}`);
    assert.equal(tie.chosen, "pcmci");
    assert.deepEqual(tie.graph, tie.candidates.find((k) => k.source === "pcmci")!.scores);
    const mean = chooseAmong(tp, { "granger-pooled": { scores: a, seconds: 0 }, pcmci: { scores: b, seconds: 0 } }, { seed: 3, tieBreak: "consensus" });
    assert.equal(mean.chosen, "consensus");
    assert.deepEqual(mean.members.sort(), ["granger-pooled", "pcmci"]);
    // PCMCI wrong (the transpose): the evidence decides, whatever the tie-break prefers
    const clear = chooseAmong(tp, { "granger-pooled": { scores: a, seconds: 0 }, pcmci: { scores: transpose(truth), seconds: 0 } }, { seed: 3 });
    assert.equal(clear.chosen, "granger-pooled");
    assert.deepEqual(clear.tied, ["granger-pooled"]);
  });

  it("warns when Stage 1 trained on pure noise is no better than a random ranking, and not on a panel with a graph", async () => {
    for (const [name, panel, expectWarning] of [
      ["noise", noisePanel(5), true],
      ["linear", linearPanel(5, { units: 16, steps: 100 }), false],
    ] as const) {
      const tp = prepareTimePanel(panel);
      const s1 = await trainStage1(tp, {
        model: { encoderHidden: 16, edgeHidden: 8, lags: 2, seed: 5 },
        fit: { epochs: 40, learningRate: 1e-2, seed: 5, label: null },
      });
      try {
        const c = chooseGraph(tp, s1, { lags: 2, seed: 5 });
        const z = c.candidates.find((k) => k.source === "dice-stage1")!.z;
        const warned = c.warnings.some((w) => /^Stage 1's graph is indistinguishable from its prior/.test(w));
        assert.equal(warned, expectWarning, `${name}: Stage 1 z ${z.toFixed(2)}; warnings: ${c.warnings.join(" | ")}`);
        if (expectWarning)
          assert.ok(
            c.warnings.some((w) => /^No candidate graph is supported/.test(w)),
            `${name}: no baseline is supported either`,
          );
        else
          assert.ok(
            c.candidates.every((k) => k.distinguishable),
            `${name}: every method finds the graph`,
          );
        // per-unit graphs only with per-unit evidence; the reported graph is the chosen candidate's
        assert.equal(c.unitGraphs !== null, c.chosen === "dice-stage1" && c.perUnitEvidence.gain >= 0.01);
        if (c.chosen === "consensus") assert.ok(c.members.length > 1);
        else assert.deepEqual(c.graph, c.candidates.find((k) => k.source === c.chosen)!.scores);
      } finally {
        s1.model.dispose();
      }
    }
  });
});

describe("every graph-recovery method on a small linear family panel", () => {
  const spec = { generator: "family" as const, input: { member: "linear-short", seed: 2, override: { units: 24, steps: 120, channels: 2, intermediates: 2 } } };

  it("Stage 1, the pooled baselines and diagnose's reported graph rank the true edges well above chance; diagnose reports one of them", async () => {
    const tp = panelFromSpec(spec);
    const rows = await recoveryCore(tp, 2, { stage1: { model: { encoderHidden: 16, edgeHidden: 8 }, fit: { epochs: 60, learningRate: 1e-2 } } });
    const by = Object.fromEntries(rows.map((r) => [r.method, r]));
    for (const m of ["dice-stage1-mean", "granger-pooled", "pcmci"]) assert.ok(by[m].scores.auroc >= 0.85, `${m}: AUROC ${by[m].scores.auroc}`);
    const d = by.diagnose;
    if (d.choice!.chosen === "consensus") assert.ok(d.scores.auroc >= 0.85, `diagnose (consensus of ${d.choice!.members}): AUROC ${d.scores.auroc}`);
    else {
      const chosen = d.choice!.chosen === "dice-stage1" && !d.choice!.perUnit ? "dice-stage1-mean" : d.choice!.chosen;
      assert.equal(d.scores.auroc, by[chosen].scores.auroc, "diagnose's score is its chosen candidate's");
    }
  });

  // CausalMMM's recovery of a known graph is tested in test/models/causalmmm.test.ts; on this
  // family panel it stays near chance (measured AUROC 0.53-0.55 after 20 epochs), which notebook 09 reports
  it("the per-unit Granger VAR recovers the graph above chance; the DeepCausalMMM-style DAG ranks the target's true channels first", async () => {
    const tp = panelFromSpec(spec);
    const unit = await recoveryExtra(tp, "granger-unit", 1);
    assert.ok(unit.scores.auroc >= 0.7, `granger-unit: AUROC ${unit.scores.auroc}`);
    // the DeepCausalMMM-style graph has edges among channels and into the target only: scored on a
    // media panel whose channels drive the target directly (no funnel), one of them inert
    const media = panelFromSpec({
      generator: "family",
      input: { member: "media-short", seed: 4, override: { units: 24, steps: 120, channels: 3, intermediates: 0, graph: { inertChannels: 1 } } },
    });
    const deep = await recoveryExtra(media, "deepcausalmmm", 1, { deepcausal: { fit: { epochs: 30, learningRate: 1e-2 } } });
    assert.ok(deep.scores.auroc >= 0.7, `deepcausalmmm: AUROC ${deep.scores.auroc}`);
  });
});

describe("recoveryVerdicts", () => {
  it("holds Stage 1's mean graph to pooled Granger and diagnose to the best method, with the tolerance", () => {
    const row = (data: string, method: RecoveryRow["method"], auroc: number, seed = 1): RecoveryRow => ({
      data,
      method,
      seed,
      roles: false,
      scores: { auroc, nauprc: 0, withinAuroc: auroc, withinNauprc: 0 },
      seconds: 0,
    });
    const rows = [
      row("a", "dice-stage1-mean", 0.8),
      row("a", "granger-pooled", 0.82),
      row("a", "pcmci", 0.9),
      row("a", "diagnose", 0.86),
      row("b", "dice-stage1-mean", 0.7),
      row("b", "granger-pooled", 0.75),
      row("b", "pcmci", 0.6),
      row("b", "diagnose", 0.75),
    ];
    const [a, b] = recoveryVerdicts(rows, 0.03);
    assert.equal(a.best.method, "pcmci");
    assert.equal(a.stage1Holds, true, "0.80 is within 0.03 of 0.82");
    assert.equal(a.diagnoseHolds, false, "0.86 is more than 0.03 below 0.90");
    assert.equal(b.stage1Holds, false, "0.70 is more than 0.03 below 0.75");
    assert.equal(b.diagnoseHolds, true);
  });
});
