import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { generateSparseTarget } from "../../lib/data/simulate";
import { type BudgetSeedResult, budgetConclusion, budgetSeed, budgetSummary, curvePanels, modelAllocations } from "../../lib/experiments/budget";
import { prepareTimePanel } from "../../lib/experiments/protocol";
import { tf } from "../../lib/tf";

const sum = (a: readonly number[]) => a.reduce((s, v) => s + v, 0);

describe("budgetSeed on a small sparse-target panel", () => {
  let result: BudgetSeedResult;
  before(async () => {
    await initBackend(undefined, null);
    const tp = prepareTimePanel(generateSparseTarget({ units: 10, steps: 100, seed: 7 }).panel);
    const tensors = tf.memory().numTensors;
    result = await budgetSeed(tp, 1, {
      stage1: { fit: { epochs: 10 } },
      decoder: { fit: { epochs: 2 } },
      deepCausalTrain: { fit: { epochs: 2 } },
      units: 6,
      origins: 2,
      horizon: 5,
      carryover: 5,
      maxIter: 30,
    });
    assert.equal(tf.memory().numTensors, tensors, "no tensor outlives the budget study");
  });

  it("every allocation spends the budget within the bounds", () => {
    for (const o of result.outcomes) {
      assert.ok(
        Math.abs(sum(o.allocation) - result.total) <= 1e-6 * result.total || o.name === "observed mix",
        `${o.name} spends ${sum(o.allocation)} of ${result.total}`,
      );
      for (const v of o.allocation) assert.ok(v >= -1e-9 && v <= result.upper + 1e-9, `${o.name}: ${v} outside [0, ${result.upper}]`);
    }
  });

  it("the true optimum earns at least as much as every other allocation, and the gain shares are anchored at it and at the equal split", () => {
    const of = (n: string) => result.outcomes.find((o) => o.name === n)!;
    const best = of("true optimum");
    for (const o of result.outcomes) assert.ok(o.trueRevenue <= best.trueRevenue + 1e-9, `${o.name} earns ${o.trueRevenue} > optimum ${best.trueRevenue}`);
    assert.equal(best.gainCaptured, 1);
    assert.equal(of("equal split").gainCaptured, 0);
    assert.ok(best.trueRevenue > of("equal split").trueRevenue, "the optimum beats the equal split");
  });

  it("the no-graph decoder cannot see spend: flat response curves, and it keeps the equal split it starts from", () => {
    const curves = result.curves.find((c) => c.name === "no-graph")!;
    for (const row of curves.byChannel) for (const v of row) assert.ok(Math.abs(v - row[0]) <= 1e-4 * Math.max(1, Math.abs(row[0])), "flat");
    const noGraph = result.outcomes.find((o) => o.name === "no-graph")!;
    for (const v of noGraph.allocation) assert.ok(Math.abs(v - result.total / result.channels.length) < 1e-9);
    // the true process does respond to spend
    const truth = result.curves[0];
    assert.equal(truth.name, "true process");
    assert.ok(truth.byChannel.some((row) => Math.abs(row[row.length - 1] - row[0]) > 1e-3));
  });

  it("tables, curves and the conclusion are built from the outcomes", () => {
    const v = budgetSummary([result, result]);
    assert.deepEqual(
      v.rows,
      result.outcomes.map((o) => o.name),
    );
    assert.deepEqual(
      v.values("DICE-hard", "gainCaptured"),
      [0, 1].map(() => result.outcomes.find((o) => o.name === "DICE-hard")!.gainCaptured),
    );
    assert.deepEqual(
      modelAllocations(v),
      ["oracle", "DICE-hard", "high-capacity", "no-graph", "DeepCausalMMM-style"],
      "the allocations with a model, labelled once",
    );
    const cols = v.table().columnNames();
    assert.ok(cols.includes("gain captured") && cols.includes("gain captured_mean"), "the table is labelled from the catalogue");
    const panels = curvePanels([result]);
    assert.equal(panels.length, result.channels.length);
    for (const p of panels) for (const s of p.series) assert.equal(s.y[0], 0, "curves are changes over zero spend");
    assert.match(budgetConclusion([result]), /\*\*Forecast accuracy (does not rank|roughly ranks) these allocations\*\*/);
  });
});
