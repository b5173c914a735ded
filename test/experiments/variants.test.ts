/**
 * The variant layer: each decoder variant gets the graph its name stands for, DICE-hard and
 * DICE-soft leave their Stage 1 encoder untouched, and every variant comes back as one Run shape.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { targetIndex } from "../../lib/data/panel";
import { scoreGraphs } from "../../lib/diagnostics/ranking";
import { selectSupportByValidation, stage1Graphs, trainStage1 } from "../../lib/experiments/dice";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import { type VariantSpec, createDecoder, createRun } from "../../lib/experiments/variants";
import { emptyGraph } from "../../lib/graph";
import { GraphSafeDecoder } from "../../lib/models/graph-safe";
import { selectTopK } from "../../lib/models/support";
import { tf } from "../../lib/tf";
import { linearPanel, maxAbsDiff, paramValues } from "./fixtures";

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// DICE-hard and DICE-soft: the Stage 1 encoder stays frozen
// ---------------------------------------------------------------------------------------------

describe("decoder variants", () => {
  it("trains the graph-safe decoder on the Stage 1 graphs (soft: probabilities, hard: the support) and leaves Stage 1 bit-identical", async () => {
    const tp = prepareTimePanel(linearPanel(4, { units: 8, contextDim: 2 }));
    const stage1 = await trainStage1(tp, {
      model: { encoderHidden: 8, edgeHidden: 4, lags: 2, seed: 4 },
      fit: { epochs: 3, seed: 4, label: null },
      batchSize: 4,
    });
    const before = stage1.model.params.snapshot();
    const probsBefore = stage1.probs.map((g) => g.map((r) => [...r]));
    const selection = selectTopK(stage1.probs, { k: 3 });
    const decoder = { graphSafe: { hidden: 8, message: 4, embed: 2 }, fit: { epochs: 2, label: null }, window: 20, windowsPerUnit: 2, batchSize: 8 };
    const base = { nodes: tp.panel.nodes, target: targetIndex(tp.panel), contextDim: 2, hidden: 8, message: 4, embed: 2 };
    for (const mode of ["soft", "hard"] as const) {
      const seed = mode === "soft" ? 11 : 12;
      const run = await createDecoder(tp, `dice-${mode}`, decoder, { seed, stage1, selection });
      assert.equal(run.name, `dice-${mode}`);
      assert.equal(run.label, mode === "hard" ? "DICE-hard" : "DICE-soft");
      assert.ok(run.model instanceof GraphSafeDecoder);
      // the supplied graphs: the edge probabilities (soft) or the selected support (hard)
      assert.deepEqual(run.graphs, mode === "soft" ? stage1Graphs(stage1.model, tp) : selection.graphs);
      if (mode === "soft") assert.ok(run.graphs!.some((g) => g.some((row) => row.some((v) => v > 0 && v < 1))));
      // Stage 1's parameters: every value bit-identical
      for (const [name, value] of before) {
        assert.deepEqual(stage1.model.params.get(name).dataSync(), value.dataSync(), `${mode}: Stage 1 parameter ${name} changed`);
      }
      assert.deepEqual(stage1.probs, probsBefore);
      // ... while the decoder's moved away from the initial values of its seed
      const fresh = new GraphSafeDecoder({ ...base, seed });
      const initial = paramValues(fresh.params);
      const trained = paramValues(run.model.params);
      const moved = [...initial.keys()].filter((n) => maxAbsDiff(initial.get(n)!, trained.get(n)!) > 1e-6);
      for (const n of ["emb", "msg.wh", "msg.wx", "gru.wx", "gru.wh", "out.w1", "out.w2", "out.own"])
        assert.ok(moved.includes(n), `${mode}: decoder parameter ${n} did not move`);
      fresh.dispose();
      run.dispose();
    }
    // without a Stage 1 run, DICE-hard trains its own (same seed), selects its support by validation MSE and frees it
    const tensors = tf.memory().numTensors;
    const own = await createDecoder(tp, "dice-hard", decoder, {
      seed: 4,
      stage1Config: { model: { encoderHidden: 8, edgeHidden: 4, lags: 2 }, fit: { epochs: 3, label: null }, batchSize: 4 },
    });
    assert.equal(own.graphs!.length, tp.panel.units);
    assert.ok(
      own.graphs!.every((g) => g.every((row) => row.every((v) => v === 0 || v === 1))),
      "a 0/1 support",
    );
    assert.deepEqual(own.graphs, selectSupportByValidation(stage1, tp).graphs, "the same support as the Stage 1 run of the same seed and configuration");
    own.dispose();
    assert.equal(tf.memory().numTensors, tensors, "its own Stage 1 is freed");
    await assert.rejects(
      () => createDecoder(tp, "dice-hard", decoder, { seed: 1, stage1, selection: { ...selection, graphs: selection.graphs.slice(1) } }),
      /7 graphs for 8 units/,
    );
    tf.dispose([...before.values()]);
    stage1.model.dispose();
  });

  it("the oracle decoder is the graph-safe decoder with the true graphs (copied), high-capacity the joint GRU with none", async () => {
    const tp = prepareTimePanel(linearPanel(5, { units: 4, steps: 60 }));
    const graphs = tp.truth!;
    const cfg = { graphSafe: { hidden: 4, message: 2, embed: 2 }, jointGru: { hidden: 4 }, fit: { epochs: 1, label: null }, window: 12, batchSize: 8 };
    const safe = await createDecoder(tp, "oracle", cfg, { seed: 3 });
    const joint = await createDecoder(tp, "high-capacity", cfg, { seed: 3 });
    assert.equal(safe.model.kind, "graph-safe");
    assert.equal(joint.model.kind, "joint-gru");
    assert.equal(safe.forecaster.acceptsGraph, true);
    assert.equal(joint.forecaster.acceptsGraph, false);
    assert.equal(joint.graphs, null);
    assert.deepEqual(safe.graphs, graphs);
    const kept = graphs[0][0][1];
    graphs[0][0][1] = 7;
    assert.equal(safe.graphs![0][0][1], kept, "the run keeps its own copy of the graphs");
    graphs[0][0][1] = kept;
    // validation MSE after each epoch, from the validation window
    assert.ok(Number.isFinite(safe.fit.history[0].val.mse) && Number.isFinite(joint.fit.history[0].val.mse));
    safe.dispose();
    joint.dispose();
  });

  it("no-graph and full-graph are supplied the empty and the complete graph for every unit", async () => {
    const tp = prepareTimePanel(linearPanel(6, { units: 3, steps: 60 }));
    const cfg = { graphSafe: { hidden: 4, message: 2, embed: 2 }, fit: { epochs: 1, label: null }, window: 12, batchSize: 8 };
    const N = tp.panel.nodes;
    const empty = await createDecoder(tp, "no-graph", cfg, { seed: 1 });
    const full = await createDecoder(tp, "full-graph", cfg, { seed: 1 });
    assert.deepEqual(
      empty.graphs,
      [0, 1, 2].map(() => emptyGraph(N)),
    );
    assert.deepEqual(
      full.graphs,
      [0, 1, 2].map(() => Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => (i === j ? 0 : 1)))),
    );
    empty.dispose();
    full.dispose();
    await assert.rejects(() => createDecoder({ ...tp, truth: null }, "oracle", cfg, { seed: 1 }), /oracle decoder needs a panel with true graphs/);
  });
});

describe("createRun: every variant returns the same Run shape", () => {
  it("DICE Stage 1, CausalMMM, Granger and PCMCI report edge scores per unit with their ranking; only the forecasters forecast", async () => {
    const tp = prepareTimePanel(linearPanel(7, { units: 6, steps: 60 }));
    const before = tf.memory().numTensors;
    const specs: VariantSpec[] = [
      { kind: "dice-stage1", config: { model: { encoderHidden: 8, edgeHidden: 4, lags: 2 }, fit: { epochs: 2, label: null }, batchSize: 4 } },
      { kind: "causalmmm", config: { model: { hidden: 8, encoderHidden: 8 }, fit: { epochs: 1, label: null }, batchSize: 4 } },
      { kind: "granger", scope: "pooled", config: { lags: 2 } },
      { kind: "granger", scope: "unit", config: { lags: 2 } },
      { kind: "pcmci", config: { maxLag: 2 } },
    ];
    const runs = [];
    for (const spec of specs) runs.push(await createRun(tp, spec, { seed: 2, label: null }));
    assert.deepEqual(
      runs.map((r) => r.name),
      ["dice-stage1", "causalmmm", "granger-pooled", "granger-unit", "pcmci"],
    );
    assert.deepEqual(
      runs.map((r) => r.label),
      ["DICE Stage 1", "CausalMMM", "Granger (pooled)", "Granger (per unit)", "PCMCI (pooled)"],
    );
    for (const r of runs) {
      assert.ok(r.evidence, `${r.name} has graph evidence`);
      assert.deepEqual(r.evidence.units, [0, 1, 2, 3, 4, 5]);
      assert.equal(r.evidence.probs.length, 6);
      assert.ok(r.evidence.scores && Number.isFinite(r.evidence.scores.auroc), `${r.name} is scored against the truth`);
      // the score is the ranking of its own edge scores, recomputed here
      assert.equal(r.evidence.scores.auroc, scoreGraphs(r.evidence.probs, tp.truth!).mean.auroc);
    }
    assert.ok(runs[0].forecaster && runs[1].forecaster, "Stage 1 and CausalMMM forecast");
    assert.equal(runs[2].forecaster, null, "Granger's scores only");
    assert.ok((runs[0].fit?.history.length ?? 0) === 2 && runs[2].fit === null);
    for (const r of runs) r.dispose();
    assert.equal(tf.memory().numTensors, before, "the runs' tensors are freed by dispose()");
  });
});

describe("the linear baselines as variants", () => {
  it("pooled Granger and PCMCI, fitted on the training window, rank the true edges of a linear panel first", async () => {
    const tp = prepareTimePanel(linearPanel(8, { units: 20, steps: 120 }));
    for (const spec of [
      { kind: "granger", scope: "pooled", config: { lags: 2 } },
      { kind: "pcmci", config: { maxLag: 2 } },
    ] as VariantSpec[]) {
      const run = await createRun(tp, spec, { seed: 1 });
      assert.ok(run.evidence!.scores!.auroc >= 0.9, `${run.label}: AUROC ${run.evidence!.scores!.auroc}`);
      run.dispose();
    }
  });
});
