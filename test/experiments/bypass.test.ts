/** One seed of the bypass benchmark on tiny panels: its rows, its identities, its swap. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { BYPASS_DECODERS, bypassSeed } from "../../lib/experiments/bypass";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import { tf } from "../../lib/tf";
import { linearPanel, offDiagonalEdges } from "./fixtures";
import { generateBypassProne } from "../../lib/data/bypass-prone";
import { trueInfluence } from "../../lib/analysis/true-influence";
import { influenceAgreement } from "../../lib/diagnostics/agreement";
import { targetIndex } from "../../lib/data/panel";

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// One seed of the bypass benchmark
// ---------------------------------------------------------------------------------------------

describe("bypassSeed on a tiny panel", () => {
  it("one row per decoder with finite numbers; the no-graph decoder's influence is exactly nothing, the oracle's exactly its graph; no tensor leaks", async (t) => {
    // No intermediates: every edge goes from a channel into the target, so the true graph is its
    // own transitive closure and total AR-CIG can be scored against it as well.
    const tp = prepareTimePanel(linearPanel(2, { units: 6, steps: 80, intermediates: 0, contextDim: 2 }));
    const truth = tp.truth![0];
    assert.ok(offDiagonalEdges(truth) >= 1 && offDiagonalEdges(truth) < 12);
    const before = tf.memory().numTensors;
    const r = await bypassSeed(tp, 3, {
      stage1: { model: { encoderHidden: 8, edgeHidden: 4, lags: 2 }, fit: { epochs: 5, label: null }, batchSize: 4 },
      decoder: {
        graphSafe: { hidden: 8, message: 4, embed: 2 },
        jointGru: { hidden: 8 },
        fit: { epochs: 2, label: null },
        window: 20,
        windowsPerUnit: 2,
        batchSize: 8,
      },
      evaluation: { history: 10, stride: 4, influenceStride: 8, horizon: 7 },
    });
    assert.equal(tf.memory().numTensors, before, "bypassSeed left tensors behind");
    assert.equal(r.seed, 3);
    assert.deepEqual(
      r.rows.map((row) => row.decoder),
      [...BYPASS_DECODERS],
    );
    assert.deepEqual(
      r.evaluations.map((e) => e.name),
      [...BYPASS_DECODERS],
    );
    for (const row of r.rows) {
      t.diagnostic(
        `${row.decoder}: MSE@7 target ${row.mse7Target.toFixed(3)}, all ${row.mse7All.toFixed(3)}; nAUPRC CIG ${row.nauprcCig.toFixed(3)}, direct ` +
          `${row.nauprcDirect.toFixed(3)}, total ${row.nauprcTotal.toFixed(3)}`,
      );
      assert.equal(row.seed, 3);
      for (const k of ["mse7Target", "mse7All", "nauprcCig", "nauprcDirect", "nauprcTotal", "trainSeconds", "evalSeconds"] as const) {
        assert.ok(Number.isFinite(row[k]), `${row.decoder}: ${k} = ${row[k]}`);
      }
      assert.ok(row.mse7Target > 0 && row.mse7All > 0);
    }
    const ev = (d: string) => r.evaluations.find((e) => e.name === d)!;
    const row = (d: string) => r.rows.find((x) => x.decoder === d)!;
    // no graph: no node's forecast depends on another's, so every off-diagonal influence is
    // exactly zero and every nAUPRC exactly that of a constant score
    for (const kind of ["cig", "direct", "total"] as const) {
      const m = ev("no-graph").influence[kind]!;
      m.values.forEach((rowV, j) => rowV.forEach((v, i) => i !== j && assert.equal(v, 0, `no-graph ${kind}[${j}][${i}]`)));
    }
    assert.equal(row("no-graph").nauprcCig, 0);
    assert.equal(row("no-graph").nauprcDirect, 0);
    assert.equal(row("no-graph").nauprcTotal, 0);
    // the oracle: influence only along the true edges, and on every one of them
    const direct = ev("oracle").influence.direct!;
    direct.values.forEach((rowV, j) =>
      rowV.forEach((v, i) => {
        if (i === j) return;
        if (truth[j][i]) assert.ok(v > 0, `oracle: no influence along the true edge ${j} -> ${i}`);
        else assert.equal(v, 0, `oracle: influence ${v} off the graph, ${j} -> ${i}`);
      }),
    );
    assert.equal(row("oracle").nauprcDirect, 1);
    assert.equal(row("oracle").nauprcCig, 1);
    assert.equal(ev("oracle").nauprc.totalVsClosure, 1);
    // the frozen swap: the DICE-hard decoder with the oracle graph is graph safe as well
    assert.ok(r.swap);
    assert.equal(r.swap.learned, ev("dice-hard"));
    assert.equal(r.swap.oracle.nauprc.direct, 1);
    // Stage 1's record
    assert.ok(Number.isFinite(r.stage1.auroc) && Number.isFinite(r.stage1.nauprc) && r.stage1.seconds > 0);
    assert.equal(r.stage1.selection.graphs.length, tp.panel.units);
    assert.equal(r.stage1.selection.evidence.candidates.length, 19);
    // MSE@M at horizons 1, 7 and 14 (the test window has 16 steps)
    assert.deepEqual(
      ev("oracle").mse.horizons.map((h) => h.horizon),
      [1, 7, 14],
    );
  });

  it("runs only the decoders asked for, without Stage 1 when no DICE decoder is among them", async () => {
    const tp = prepareTimePanel(linearPanel(2, { units: 4, steps: 60, intermediates: 0 }));
    const r = await bypassSeed(tp, 1, {
      decoders: ["no-graph", "high-capacity"],
      decoder: { graphSafe: { hidden: 4, message: 2, embed: 2 }, jointGru: { hidden: 4 }, fit: { epochs: 1, label: null }, window: 12, batchSize: 8 },
      evaluation: { history: 8, stride: 4, influenceStride: 6, horizon: 3 },
    });
    assert.deepEqual(
      r.rows.map((x) => x.decoder),
      ["no-graph", "high-capacity"],
    );
    assert.ok(Number.isNaN(r.stage1.auroc));
    assert.equal(r.swap, null);
    await assert.rejects(() => bypassSeed({ ...tp, truth: null }, 1), /needs a panel with true graphs/);
  });

  it("against the true influence nothing scores perfectly by construction: the oracle decoder after two epochs agrees well short of 1, the no-graph decoder not at all", async (t) => {
    const raw = generateBypassProne({ units: 8, steps: 90, seed: 4 }).panel;
    const tp = prepareTimePanel(raw);
    const evaluation = { history: 10, stride: 4, influenceStride: 6, horizon: 7 };
    const r = await bypassSeed(tp, 2, {
      decoders: ["no-graph", "oracle"],
      decoder: { graphSafe: { hidden: 8, message: 4, embed: 2 }, fit: { epochs: 2, label: null }, window: 20, batchSize: 8 },
      evaluation,
    });
    const row = (d: string) => r.rows.find((x) => x.decoder === d)!;
    for (const x of r.rows)
      t.diagnostic(
        `${x.decoder}: direct nAUPRC ${x.nauprcDirect.toFixed(3)}, relative error ${x.relativeError.toFixed(3)} (target column ${x.relativeErrorTarget.toFixed(3)}), Spearman on true-influence pairs ${x.supportSpearman.toFixed(3)}`,
      );
    // support: the oracle's direct influence lies on true edges only (its nAUPRC is 1 by construction) ...
    assert.equal(row("oracle").nauprcDirect, 1);
    // ... but its magnitudes are learned: after two epochs their sizes are far from the process's own
    assert.ok(row("oracle").relativeError > 0.05 && row("oracle").relativeErrorTarget > 0.05, `oracle relative errors ${row("oracle").relativeError}, ${row("oracle").relativeErrorTarget}`);
    assert.ok(row("oracle").supportSpearman < 0.999, `oracle Spearman on the true-influence pairs ${row("oracle").supportSpearman}`);
    // no graph: nothing off the diagonal, so no ranking (Spearman 0) and all of the true influence missed (relative error 1)
    assert.equal(row("no-graph").supportSpearman, 0);
    assert.equal(row("no-graph").relativeError, 1);
    assert.equal(row("no-graph").relativeErrorTarget, 1);
    // the reference itself: the true influence agrees with itself exactly, per unit
    const ti = trueInfluence(raw, tp.scaler!, { window: { from: tp.split.test.from, to: tp.split.test.to - 6 }, history: 10, stride: 6 });
    const self = influenceAgreement(ti.direct.perUnit[0], ti.direct.perUnit[0], targetIndex(raw));
    assert.equal(self.all.spearman.value, 1);
    assert.equal(self.all.relativeError.value, 0);
  });
});
