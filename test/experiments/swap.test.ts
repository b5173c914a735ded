/** The graph-swap study: one seed on a tiny panel scored against the true influence, and its claim checks on known numbers. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { trueInfluence } from "../../lib/analysis/true-influence";
import { targetIndex } from "../../lib/data/panel";
import type { GraphSwapResult } from "../../lib/diagnostics/swap";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import {
  type SelectionOutcome,
  type SwapConditionScore,
  type SwapSeedResult,
  selectionOutcomes,
  swapClaims,
  swapConclusion,
  projectSwapSeconds,
  swapCost,
  describeSwapCost,
  swapSeed,
  swapSummary,
} from "../../lib/experiments/swap";
import { tf } from "../../lib/tf";
import { checkClaimBlocks } from "../claim-check";
import { linearPanel } from "./fixtures";

before(async () => {
  await initBackend(undefined, null);
});

/** sum |m - t| / sum |t| over the off-diagonal pairs of one unit, written out. */
function relativeErrorByHand(m: number[][], t: number[][]): number {
  let num = 0;
  let den = 0;
  for (let j = 0; j < m.length; j++)
    for (let i = 0; i < m.length; i++) {
      if (i === j) continue;
      num += Math.abs(m[j][i] - t[j][i]);
      den += Math.abs(t[j][i]);
    }
  return num / den;
}

describe("swapSeed on a tiny panel", () => {
  it("scores every supplied graph against the true influence on the swap's own units and windows; the empty graph's error is exactly 1", async () => {
    const tp = prepareTimePanel(linearPanel(4, { units: 6, steps: 80, intermediates: 1 }));
    const evaluation = { history: 10, stride: 4, influenceStride: 8, horizon: 7 };
    const before = tf.memory().numTensors;
    const r = await swapSeed(tp, 2, {
      stage1: { model: { encoderHidden: 8, edgeHidden: 4, lags: 2 }, fit: { epochs: 4, label: null }, batchSize: 4 },
      decoder: { graphSafe: { hidden: 8, message: 4, embed: 2 }, fit: { epochs: 2, label: null }, window: 20, windowsPerUnit: 2, batchSize: 8 },
      evaluation,
      rewirings: 3,
      evalUnits: 4,
      stabilityRuns: 2,
    });
    assert.equal(tf.memory().numTensors, before, "swapSeed left tensors behind");
    assert.deepEqual(
      r.scores.map((k) => k.name),
      r.swap.conditions.map((k) => k.name),
    );
    // the truth on the same windows, computed from the raw panel here
    const { test } = tp.split;
    const truth = trueInfluence(tp.raw!, tp.scaler!, {
      window: { from: test.from, to: test.to - evaluation.horizon + 1 },
      history: evaluation.history,
      stride: evaluation.influenceStride,
      horizon: evaluation.horizon,
      units: [0, 1, 2, 3],
    });
    for (const [k, cond] of r.swap.conditions.entries()) {
      assert.deepEqual(cond.arCig.units, [0, 1, 2, 3]);
      const byHand = cond.arCig.perUnit.map((m, u) => relativeErrorByHand(m, truth.direct.perUnit[u])).reduce((a, b) => a + b, 0) / 4;
      assert.ok(Math.abs(r.scores[k].relativeError - byHand) < 1e-9, `${cond.name}: relative error ${r.scores[k].relativeError} vs ${byHand} by hand`);
    }
    // where the seconds went: every phase ran, and the phases are the seed's time
    assert.equal(r.phases.evalUnits, 4);
    assert.equal(r.phases.conditions, r.swap.conditions.length);
    const { stage1, stability, roles, decoder, evaluation: evalSeconds } = r.phases;
    for (const [name, v] of Object.entries({ stage1, stability, roles, decoder, evaluation: evalSeconds })) assert.ok(v > 0, `${name}: ${v} s`);
    const phaseSum = stage1 + stability + roles + decoder + evalSeconds;
    assert.ok(Math.abs(phaseSum - r.seconds) <= 0.01, `phases ${phaseSum} s vs the seed's ${r.seconds} s`);
    const empty = r.scores.find((k) => k.name === "empty")!;
    assert.equal(empty.relativeError, 1, "nothing crosses the empty graph: every unit of the true influence is missed");
    assert.equal(empty.targetRelativeError, 1);
    const oracle = r.scores.find((k) => k.name === "oracle")!;
    assert.ok(oracle.relativeError > 0 && oracle.relativeError < 1.5, `oracle relative error ${oracle.relativeError}`);
    // the error gap runs from the better of the learned support and the empty graph (error 1) to the oracle graph
    const learned = r.selections.find((s) => s.name === "learned")!;
    const learnedScore = r.scores.find((k) => k.name === "learned")!;
    const base = Math.min(learnedScore.relativeError, 1);
    if (base - oracle.relativeError > 1e-9)
      assert.ok(Math.abs(learned.errorGapClosed - (base - learnedScore.relativeError) / (base - oracle.relativeError)) < 1e-12);
    else assert.ok(Number.isNaN(learned.errorGapClosed));
    assert.deepEqual(r.selections.map((s) => s.name).sort(), ["learned", "roles", "stability", "top-k"]);
    assert.equal(targetIndex(tp.panel), tp.panel.nodes - 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Claim checks on known numbers
// ---------------------------------------------------------------------------------------------

const score = (name: string, kind: SwapConditionScore["kind"], nauprc: number, relativeError: number): SwapConditionScore => ({
  name,
  kind,
  mse7: 0.5,
  nauprc,
  targetNauprc: nauprc,
  relativeError,
  targetRelativeError: relativeError,
});

const selection = (name: string, nauprc: number, relativeError: number): SelectionOutcome => ({
  name,
  support: { precision: 1, recall: 1, f1: 1, edges: 3, shd: 0 } as SelectionOutcome["support"],
  nauprc,
  mse7: 0.5,
  gapClosed: NaN,
  relativeError,
  errorGapClosed: NaN,
});

/** A seed whose learned support gives nAUPRC `learned` and error `errLearned`; the oracle 0.95 and 0.3; one other selection "roles". */
function seed(learned: number, errLearned: number, roles: { nauprc: number; error: number }): SwapSeedResult {
  return {
    seed: 1,
    swap: { null: { pOracle: 0.05 } } as GraphSwapResult,
    scores: [
      score("learned", "learned", learned, errLearned),
      score("oracle", "oracle", 0.95, 0.3),
      score("empty", "empty", 0, 1),
      score("full", "full", 0.2, 2),
      score("roles", "extra", roles.nauprc, roles.error),
      score("rewired-0", "rewired", 0.4, 0.9),
      score("rewired-1", "rewired", 0.6, 0.7),
    ],
    selections: [selection("learned", learned, errLearned), selection("roles", roles.nauprc, roles.error)],
    probs: [],
    seconds: 1,
    phases: { stage1: 0.2, stability: 0.2, roles: 0.2, decoder: 0.2, evaluation: 0.2, evalUnits: 4, conditions: 7 },
  };
}

describe("swapClaims", () => {
  it("claim 3 is decided by the relative error, not by the supplied support's nAUPRC", () => {
    // nAUPRC: oracle 0.95 vs learned 0.4 (a gap, by construction); error: oracle 0.3 vs learned 0.35 (no gap)
    const { claim3 } = swapClaims([seed(0.4, 0.35, { nauprc: 0.5, error: 0.34 })]);
    assert.deepEqual(
      claim3.map((c) => [c.holds, c.byConstruction !== undefined]),
      [
        [true, true],
        [true, true],
        [true, false],
        [false, false],
      ],
    );
    const text = swapConclusion([seed(0.4, 0.35, { nauprc: 0.5, error: 0.34 })]);
    assert.match(text, /\*\*Claim 3 holds in part\*\*/);
    assert.equal(checkClaimBlocks(text), 2);
  });

  it("claim 5: the share of the error gap closed is a ratio of the means; the learned support is not a candidate", () => {
    // errors: learned (0.9 + 0.7) / 2 = 0.8, oracle 0.3, roles (0.5 + 0.4) / 2 = 0.45: share (0.8 - 0.45) / (0.8 - 0.3) = 0.7
    const results = [seed(0.3, 0.9, { nauprc: 0.5, error: 0.5 }), seed(0.3, 0.7, { nauprc: 0.55, error: 0.4 })];
    const { claim5 } = swapClaims(results);
    assert.equal(claim5.length, 2);
    assert.match(claim5[0].what, /\(roles\)/);
    assert.ok(Math.abs(claim5[0].value - 0.525) < 1e-12);
    assert.equal(claim5[0].holds, false, "nAUPRC 0.525 < 0.6");
    assert.ok(Math.abs(claim5[1].value - 0.7) < 1e-12, `share ${claim5[1].value}`);
    assert.equal(claim5[1].holds, true);
    const text = swapConclusion(results);
    assert.match(text, /\*\*Claim 5 holds\*\*/);
    assert.equal(checkClaimBlocks(text), 2);
    // a selection no closer to the truth than the learned support closes nothing
    const none = swapClaims([seed(0.3, 0.8, { nauprc: 0.9, error: 0.8 })]).claim5;
    assert.equal(none[1].value, 0);
    assert.equal(none[1].holds, false);
    // a learned support worse than no influence at all (error 1.2 > the empty graph's 1): the gap is measured from the empty graph,
    // so dropping edges is no credit: roles at 0.95 closes (1 - 0.95) / (1 - 0.3) of it
    const worse = swapClaims([seed(0.3, 1.2, { nauprc: 0.4, error: 0.95 })]).claim5;
    assert.ok(Math.abs(worse[1].value - 0.05 / 0.7) < 1e-12, `share ${worse[1].value}`);
    assert.equal(worse[1].holds, false);
  });

  it("per seed, the selections' error gap is measured from the better of the learned support and the empty graph", () => {
    const r = seed(0.3, 1.2, { nauprc: 0.4, error: 0.65 });
    const out = selectionOutcomes(r.scores, { learned: [[[0]]], roles: [[[0]]] }, { truth: [[[0]]], units: [0] });
    assert.ok(Math.abs(out.find((o) => o.name === "roles")!.errorGapClosed - 0.5) < 1e-12, "(1 - 0.65) / (1 - 0.3)");
    assert.ok(Math.abs(out.find((o) => o.name === "learned")!.errorGapClosed - -0.2 / 0.7) < 1e-12, "the learned support is worse than the empty graph");
  });

  it("claim 5 is not measured when the oracle graph is no closer to the truth than the learned support", () => {
    // learned 0.25 < oracle 0.3: no gap in relative error to close
    const results = [seed(0.3, 0.25, { nauprc: 0.9, error: 0.2 })];
    const { claim5 } = swapClaims(results);
    assert.deepEqual(
      claim5.map((c) => c.byConstruction !== undefined),
      [true],
    );
    const text = swapConclusion(results);
    assert.match(text, /\*\*Claim 5 was not measured\*\*/);
    assert.match(text, /no gap in relative error to close/);
    assert.equal(checkClaimBlocks(text), 2);
  });

  it("the null row pools each seed's rewirings", () => {
    const v = swapSummary([seed(0.4, 0.8, { nauprc: 0.5, error: 0.5 })]);
    assert.deepEqual(v.values("rewired (null)", "directNauprc"), [0.5]);
    assert.ok(Math.abs(v.values("rewired (null)", "relativeError")[0] - 0.8) < 1e-12);
    assert.ok(!v.has("rewired-0"));
  });
});

describe("projectSwapSeconds", () => {
  const phases = { stage1: 80, stability: 90, roles: 70, decoder: 60, evaluation: 300, evalUnits: 30, conditions: 27 };
  it("scales the evaluation with the evaluated units and stability with its further Stage 1 runs", () => {
    // 80 + 60 + 70 (unchanged) + 4 further runs at 90 s + 300 s x 100 / 30
    assert.ok(Math.abs(projectSwapSeconds(phases, { evalUnits: 100, stabilityRuns: 5 }, 2) - (210 + 360 + 1000)) < 1e-9);
    // the measured setting projects to the measured time
    assert.ok(Math.abs(projectSwapSeconds(phases, { evalUnits: 30, stabilityRuns: 2 }, 2) - 600) < 1e-9);
    // three measured runs: 45 s each; none asked for
    assert.ok(Math.abs(projectSwapSeconds(phases, { evalUnits: 30, stabilityRuns: 0 }, 3) - 510) < 1e-9);
  });
  it("costs a stability run as the main Stage 1 run when none was measured, and refuses a run with no evaluated units", () => {
    assert.ok(Math.abs(projectSwapSeconds({ ...phases, stability: 0 }, { evalUnits: 30, stabilityRuns: 3 }, 0) - (510 + 160)) < 1e-9);
    assert.throws(() => projectSwapSeconds({ ...phases, evalUnits: 0 }, { evalUnits: 30, stabilityRuns: 2 }, 2), /no units/);
  });
});

describe("swapCost", () => {
  const job = (seconds: number, evaluation: number) =>
    ({ seconds, phases: { stage1: 60, stability: 60, roles: 60, decoder: 30, evaluation, evalUnits: 30, conditions: 27 } }) as unknown as SwapSeedResult;
  it("averages the phases of the jobs and projects each job to the target settings", () => {
    const cost = swapCost([job(300, 90), job(420, 210)], 2, { evalUnits: 90, stabilityRuns: 4 });
    assert.equal(cost.jobs, 2);
    assert.equal(cost.meanPhases.evaluation, 150);
    assert.equal(cost.measuredSeconds, 720);
    // each job: 60 + 30 + 60 + 3 further runs x 60 + evaluation x 3
    assert.ok(Math.abs(cost.projectedSeconds - (330 + 270 + 330 + 630)) < 1e-9);
    assert.deepEqual(cost.measured, { evalUnits: 30, stabilityRuns: 2 });
  });
  it("describes the mean job and both totals on the given workers, and refuses no jobs", () => {
    const text = describeSwapCost(swapCost([job(300, 90), job(420, 210)], 2, { evalUnits: 90, stabilityRuns: 4 }), 2);
    assert.match(text, /A mean job of 6\.0 min/);
    assert.match(text, /evaluation of 27 supplied graphs on 30 units 2\.5 min \(42%\)/);
    assert.match(text, /12\.0 min of worker time \(about 6\.0 min on 2 workers\)/);
    assert.match(text, /about 26\.0 min \(about 13\.0 min on 2 workers, 2\.2x\)/);
    assert.throws(() => swapCost([], 2, { evalUnits: 90, stabilityRuns: 4 }), /no seed results/);
  });
});
